"""A small registry of model kinds: a config names a ``kind``, the registry builds it.

Kinds register lazily (module path strings) so that importing nlpops never imports torch,
transformers or fastText unless a config asks for them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from nlpops.errors import ParameterError, UnknownNameError
from nlpops.models.base import TextClassifier

# kind -> "module:Class"; modules are imported only when the kind is built.
MODEL_KINDS: dict[str, str | Callable[..., TextClassifier]] = {
    "vader": "nlpops.models.vader:VaderClassifier",
    "tfidf_lr": "nlpops.models.classical:TfidfLogReg",
    "tfidf_nb": "nlpops.models.classical:TfidfNaiveBayes",
    "tfidf_xgb": "nlpops.models.boosting:TfidfBoosting",
    "fasttext": "nlpops.models.fasttext_model:FastTextClassifier",
    "embed_bag": "nlpops.models.deep.estimator:EmbedBagClassifier",
    "bilstm": "nlpops.models.deep.estimator:BiLSTMClassifier",
    "cnn": "nlpops.models.deep.estimator:CNNClassifier",
    "transformer": "nlpops.models.hf.estimator:TransformerClassifier",
    "sentence_lr": "nlpops.models.hf.sentence:SentenceLRClassifier",
    "spacy_vectors": "nlpops.models.spacy_vectors:SpacyVectorsLogReg",
    "soft_vote": "nlpops.models.ensemble:SoftVoting",
}


def register(kind: str, target: str | Callable[..., TextClassifier]) -> None:
    """Register a model kind as ``"module:Class"`` or a callable returning an estimator."""
    MODEL_KINDS[kind] = target


def model_class(kind: str) -> Callable[..., TextClassifier]:
    """The class (or builder) for ``kind``; a clear error lists the known kinds."""
    if kind not in MODEL_KINDS:
        raise UnknownNameError(f"unknown model kind {kind!r}; known kinds: {', '.join(sorted(MODEL_KINDS))}")
    target = MODEL_KINDS[kind]
    if callable(target):
        return target
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def build_model(kind: str, params: dict[str, Any] | None = None) -> TextClassifier:
    """Build an unfitted model of ``kind`` with hyperparameters ``params``.

    Raises:
        UnknownNameError: the kind is unknown (a ``KeyError`` too).
        ParameterError: a parameter is not one the kind accepts (named in the message; a ``TypeError`` too).
    """
    cls = model_class(kind)
    params = dict(params or {})
    valid = cls().get_params(deep=False) if hasattr(cls, "get_params") else {}
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ParameterError(f"model kind {kind!r} has no parameter(s) {unknown}; valid: {sorted(valid)}")
    return cls(**params)
