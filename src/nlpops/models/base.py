"""The one contract every nlpops model honours: a scikit-learn classifier on raw text.

Models take raw strings (one string or a sequence), keep their preprocessing inside, learn
``classes_`` (the label strings, sorted) in ``fit``, and save to / load from a folder.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from nlpops import __version__

META_FILE = "nlpops_model.json"
STATE_FILE = "model.joblib"


def as_texts(X: str | Iterable[Any]) -> list[str]:
    """Turn one string, a list, an array or a pandas Series into a list of strings."""
    if isinstance(X, str):
        return [X]
    if isinstance(X, pd.DataFrame):  # a one-column DataFrame, as MLflow's pyfunc passes it
        X = X.iloc[:, 0]
    return ["" if v is None or v != v else str(v) for v in X]  # v != v catches NaN


class TextClassifier(ClassifierMixin, BaseEstimator):
    """Base class: subclasses implement ``_fit(texts, y)`` and ``_predict_proba(texts)``.

    ``y`` reaches ``_fit`` as integer indices into ``classes_``, so every model is multi-class.
    Models that train in epochs call ``epoch_callback(epoch, {"val_loss": …, "val_accuracy": …})``
    after each one when it is set (the tuner uses it to prune); it is not a hyperparameter.

    >>> from nlpops.models import build_model
    >>> clf = build_model("tfidf_lr", {}).fit(["good", "bad"] * 5, ["pos", "neg"] * 5)
    >>> clf.predict("so good")[0]
    'pos'
    """

    epoch_callback: Callable[[int, dict[str, float]], None] | None = None

    def fit(self, X: str | Iterable[Any], y: Sequence[Any]) -> TextClassifier:
        """Learn the label set and fit the model on raw texts."""
        texts = as_texts(X)
        labels = np.asarray([str(v) for v in y])
        if len(texts) != len(labels):
            raise ValueError(f"got {len(texts)} texts but {len(labels)} labels")
        self.classes_ = np.unique(labels)
        if len(self.classes_) < 2:
            raise ValueError(f"need at least two classes to fit, got {list(self.classes_)}")
        y_idx = np.searchsorted(self.classes_, labels)
        self._fit(texts, y_idx)
        return self

    def predict_proba(self, X: str | Iterable[Any]) -> np.ndarray:
        """Class probabilities, one row per text, columns in ``classes_`` order."""
        texts = as_texts(X)
        if not texts:
            return np.zeros((0, len(self.classes_)))
        return np.asarray(self._predict_proba(texts), dtype=float)

    def predict(self, X: str | Iterable[Any]) -> np.ndarray:
        """The most probable label of each text."""
        proba = self.predict_proba(X)
        return np.asarray(self.classes_)[proba.argmax(axis=1)] if len(proba) else np.asarray([])

    # --- to implement -------------------------------------------------------------------
    def _fit(self, texts: list[str], y: np.ndarray) -> None:
        raise NotImplementedError

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    # --- persistence ----------------------------------------------------------------------
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
            raise TypeError(f"{folder / STATE_FILE} does not hold an nlpops model")
        return model


def load_model_dir(path: str | Path) -> TextClassifier:
    """Load any nlpops model folder, importing the class it was saved from."""
    folder = Path(path)
    meta_path = folder / META_FILE
    if not meta_path.is_file():
        raise FileNotFoundError(f"{folder} is not an nlpops model folder (no {META_FILE})")
    meta = json.loads(meta_path.read_text())
    module_name, _, class_name = meta["class"].rpartition(".")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls._load_state(folder)
