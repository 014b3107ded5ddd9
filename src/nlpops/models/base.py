"""The one contract every nlpops model honours: a scikit-learn classifier on raw text.

Models take raw strings (one string or a sequence), keep their preprocessing inside, learn
``classes_`` (the label strings, sorted) in ``fit``, and save to / load from a folder.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Self

import joblib
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import InvalidParameterError  # no public home; sklearn is pinned

from nlpops import __version__
from nlpops.errors import DataError, ModelFileError, ParameterError
from nlpops.models.names import current_params
from nlpops.text.base import as_texts

META_FILE = "nlpops_model.json"
STATE_FILE = "model.joblib"


class TextClassifier(ClassifierMixin, BaseEstimator):
    """Base class: subclasses implement ``_fit(texts, y)`` and ``_predict_proba(texts)``.

    ``y`` reaches ``_fit`` as integer indices into ``classes_``, so every model is multi-class.
    Models that train in epochs call ``epoch_callback(epoch, {"val_loss": …, "val_accuracy": …})``
    after each one when it is set (the tuner uses it to prune); it is not a hyperparameter.

    The whole life of a model (fit, predict, predict_proba, save, load; metrics are
    ``nlpops.evaluate.score_model``'s):

    >>> import tempfile
    >>> from nlpops.models import build_model
    >>> clf = build_model("tfidf_lr", {}).fit(["good", "bad"] * 5, ["pos", "neg"] * 5)
    >>> clf.predict(["so good"]).tolist(), clf.predict_proba("so bad").shape
    (['pos'], (1, 2))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     same = TextClassifier.load(clf.save(tmp))
    >>> same.predict(["so bad"]).tolist()
    ['neg']
    """

    epoch_callback: Callable[[int, dict[str, float]], None] | None = None
    # binary models only: predict ``positive_label_`` when its probability reaches the threshold
    decision_threshold_: float | None = None
    positive_label_: str | None = None
    target_label_: str | None = None  # the class watches and dashboards are about (models/target.py)

    def fit(self, X: str | Iterable[Any], y: Sequence[Any]) -> TextClassifier:
        """Learn the label set and fit the model on raw texts.

        Raises:
            DataError: fewer than two classes.
            ParameterError: the wrapped estimator refuses a hyperparameter's value (``C=-1``).
        """
        texts = as_texts(X)
        labels = np.asarray([str(v) for v in y])
        if len(texts) != len(labels):
            raise ValueError(f"got {len(texts)} texts but {len(labels)} labels")
        self.classes_ = np.unique(labels)
        if len(self.classes_) < 2:
            raise DataError(f"need at least two classes to fit, got {list(self.classes_)}")
        y_idx = np.searchsorted(self.classes_, labels)
        self.decision_threshold_ = self.positive_label_ = None  # a threshold belongs to one fit
        try:
            self._fit(texts, y_idx)
        except InvalidParameterError as exc:  # a value the wrapped estimator refuses (C=-1): the user's
            raise ParameterError(f"{type(self).__name__}: {exc}") from exc
        return self

    def predict_proba(self, X: str | Iterable[Any]) -> np.ndarray:
        """Class probabilities, one row per text, columns in ``classes_`` order."""
        texts = as_texts(X)
        if not texts:
            return np.zeros((0, len(self.classes_)))
        return np.asarray(self._predict_proba(texts), dtype=float)

    def predict(self, X: str | Iterable[Any]) -> np.ndarray:
        """The label of each text: the most probable one, or the tuned decision threshold's."""
        return self.labels_from_proba(self.predict_proba(X))

    def labels_from_proba(self, proba: np.ndarray) -> np.ndarray:
        """Labels for rows of ``predict_proba``: argmax, or ``P(positive_label_) >= decision_threshold_``.

        Serving and evaluation call this, so a threshold tuned in training applies everywhere.
        """
        proba = np.asarray(proba, dtype=float)
        classes = np.asarray(self.classes_)
        if not len(proba):
            return np.asarray([])
        if self.decision_threshold_ is None or self.positive_label_ is None or len(classes) != 2:
            return classes[proba.argmax(axis=1)]
        pos = [str(c) for c in classes].index(self.positive_label_)
        return np.where(proba[:, pos] >= self.decision_threshold_, classes[pos], classes[1 - pos])

    def set_threshold(self, threshold: float | None, positive_label: str | None = None) -> TextClassifier:
        """Predict ``positive_label`` when its probability is at least ``threshold`` (None: argmax).

        Raises:
            ParameterError: the model is not binary, the label no class, or the threshold not in [0, 1].
        """
        if threshold is None:
            self.decision_threshold_ = self.positive_label_ = None
            return self
        names = [str(c) for c in self.classes_]
        if len(names) != 2 or positive_label not in names:
            raise ParameterError(f"a decision threshold needs a binary model and one of its classes {names}")
        if not 0.0 <= threshold <= 1.0:
            raise ParameterError(f"decision threshold must be in [0, 1], got {threshold}")
        self.decision_threshold_, self.positive_label_ = float(threshold), positive_label
        return self

    def tune_threshold(self, X: str | Iterable[Any], y: Sequence[Any], positive_label: str) -> float:
        """Set the threshold that maximises F1 of ``positive_label`` on (validation) texts ``X``.

        Returns:
            The threshold now used by :meth:`predict`.
        """
        proba = self.predict_proba(X)
        pos = [str(c) for c in self.classes_].index(positive_label) if len(self.classes_) == 2 else -1
        if pos < 0:
            raise ParameterError(f"threshold tuning needs a binary model with class {positive_label!r}")
        threshold, _ = best_f1_threshold([str(v) == positive_label for v in y], proba[:, pos])
        self.set_threshold(threshold, positive_label)
        return threshold

    # --- to implement -------------------------------------------------------------------
    def _fit(self, texts: list[str], y: np.ndarray) -> None:
        raise NotImplementedError

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    # --- persistence ----------------------------------------------------------------------
    @classmethod
    def from_saved_params(cls, params: dict[str, Any]) -> Self:
        """An unfitted model from saved ``params``; names from before the naming table are renamed."""
        return cls(**current_params(params, cls._get_param_names()))

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickle, renaming the attributes of hyperparameters saved under an old name (``lr``…)."""
        super().__setstate__(current_params(state, self._get_param_names()))

    def save(self, path: str | Path) -> Path:
        """Write the model into folder ``path`` (created); returns the folder."""
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        self._save_state(folder)
        meta = {
            "class": f"{type(self).__module__}.{type(self).__qualname__}",
            "nlpops_version": __version__,
            "params": {k: repr(v) for k, v in self.get_params(deep=False).items()},
            "classes": [str(c) for c in getattr(self, "classes_", [])],
            "decision_threshold": self.decision_threshold_,
            "positive_label": self.positive_label_,
            "target_label": self.target_label_,
        }
        (folder / META_FILE).write_text(json.dumps(meta, indent=2))
        return folder

    @classmethod
    def load(cls, path: str | Path) -> TextClassifier:
        """Load a model saved by :meth:`save` (any subclass: the folder names its class)."""
        return load_model_dir(path)

    def _save_state(self, folder: Path) -> None:
        """Default persistence: pickle the whole estimator. Override for native formats."""
        joblib.dump(self, folder / STATE_FILE, compress=3)

    @classmethod
    def _load_state(cls, folder: Path) -> TextClassifier:
        model = joblib.load(folder / STATE_FILE)
        if not isinstance(model, TextClassifier):
            raise ModelFileError(f"{folder / STATE_FILE} does not hold an nlpops model")
        return model


def best_f1_threshold(is_positive: Sequence[bool] | np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """The decision threshold on ``scores`` that maximises F1 of the positive class, and that F1.

    The threshold is the midpoint between the best cut's score and the next lower one, so that
    unseen texts scoring between them are not decided by a hair.

    >>> threshold, f1 = best_f1_threshold([False, False, True, True], np.array([0.1, 0.4, 0.35, 0.9]))
    >>> round(threshold, 3), f1
    (0.225, 0.8)
    """
    from sklearn.metrics import precision_recall_curve

    truth = np.asarray(is_positive, dtype=bool)
    if truth.all() or not truth.any():
        raise DataError("tuning a threshold needs both positive and negative examples")
    precision, recall, cuts = precision_recall_curve(truth, scores)
    f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-12)
    best = int(np.argmax(f1))
    lower = np.asarray(scores)[np.asarray(scores) < cuts[best]]
    threshold = (cuts[best] + lower.max()) / 2 if len(lower) else cuts[best]
    return float(threshold), float(f1[best])


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64, so that each row sums to 1 exactly enough for the contract."""
    z = np.asarray(logits, dtype=np.float64)
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return np.asarray(z / z.sum(axis=1, keepdims=True))


def predicted_labels(model: Any, proba: np.ndarray) -> np.ndarray:
    """A model's labels (as str) for rows of ``proba``: its own decision rule (a tuned threshold)
    when it is an nlpops model, else the most probable class (any object with ``classes_``)."""
    decide = getattr(model, "labels_from_proba", None)
    if decide is not None:
        return np.asarray([str(v) for v in decide(proba)])
    return np.asarray([str(c) for c in model.classes_])[np.asarray(proba).argmax(axis=1)]


def load_model_dir(path: str | Path) -> TextClassifier:
    """Load any nlpops model folder, importing the class it was saved from."""
    folder = Path(path)
    meta_path = folder / META_FILE
    if not meta_path.is_file():
        raise FileNotFoundError(f"{folder} is not an nlpops model folder (no {META_FILE})")
    meta = json.loads(meta_path.read_text())
    module_name, _, class_name = meta["class"].rpartition(".")
    cls = getattr(importlib.import_module(module_name), class_name)
    model: TextClassifier = cls._load_state(folder)
    if meta.get("decision_threshold") is not None:  # models with a native format do not pickle it
        model.set_threshold(meta["decision_threshold"], meta["positive_label"])
    model.target_label_ = meta.get("target_label")
    return model
