"""One name per shared hyperparameter, whatever the model kind (docs/architecture.md, "Hyperparameter names").

Configs, ``search:`` spaces and ``get_params()`` use the names of :data:`HYPERPARAMETER_NAMES`
(scikit-learn's glossary where it has one); each wrapper translates them to its library's own
(fastText's ``lr`` / ``epoch`` / ``thread``, torch's ``lr``, gensim's ``seed``…).

:data:`RENAMED` maps the names used before to the table's, so that a model saved under the old
names still loads (:func:`current_params`); a config with an old name is refused with a hint.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# table name -> what it means, for every kind that has the concept
HYPERPARAMETER_NAMES: dict[str, str] = {
    "learning_rate": "step size of the optimiser (scikit-learn's name, as in gradient boosting)",
    "max_epochs": "most passes over the data of a minibatch learner (early stopping may end sooner)",
    "max_iter": "iteration cap of a solver run to convergence (scikit-learn's LogisticRegression)",
    "random_state": "seed of every random draw of a fit (scikit-learn's name)",
    "n_jobs": "CPU threads of a fit or a prediction (scikit-learn's name; LightGBM's meaning)",
    "epoch_callback": "called with (epoch, scores) after each pass: set by the tuner, not a parameter",
}

# a name used before (or by a library) -> the table's name
RENAMED: dict[str, str] = {
    "lr": "learning_rate",
    "epoch": "max_epochs",
    "epochs": "max_epochs",
    "iterations": "max_epochs",
    "seed": "random_state",
    "thread": "n_jobs",
    "num_threads": "n_jobs",
    "on_epoch": "epoch_callback",
}


def current_params(params: Mapping[str, Any], accepted: Iterable[str]) -> dict[str, Any]:
    """``params`` with every old name that ``accepted`` lacks renamed to its table name.

    >>> current_params({"lr": 0.1, "seed": 3, "dim": 50}, ["learning_rate", "random_state", "dim"])
    {'learning_rate': 0.1, 'random_state': 3, 'dim': 50}
    """
    names = set(accepted)
    return {
        RENAMED[key] if key not in names and RENAMED.get(key) in names else key: value
        for key, value in params.items()
    }
