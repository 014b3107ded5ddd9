"""A small registry of model kinds: a config names a ``kind``, the registry builds it.

Kinds register lazily (module path strings) so that importing nlpops never imports torch,
transformers or fastText unless a config asks for them.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Callable
from typing import Any

from nlpops.errors import ParameterError, UnknownNameError
from nlpops.models.base import TextClassifier
from nlpops.models.names import RENAMED

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
    "stack": "nlpops.models.ensemble:Stacking",
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


def param_names(kind: str) -> list[str] | None:
    """The hyperparameters ``kind`` accepts (read off its signature), sorted; None when it takes ``**kwargs``.

    Raises:
        UnknownNameError: the kind is unknown (a ``KeyError`` too).
    """
    cls = model_class(kind)
    get_names = getattr(cls, "_get_param_names", None)  # scikit-learn's reading of __init__
    if get_names is not None:
        return sorted(get_names())
    signature = inspect.signature(cls)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()):
        return None
    return sorted(signature.parameters)


def check_params(kind: str, params: dict[str, Any]) -> None:
    """Refuse a parameter ``kind`` does not take, and those of nested ``members`` (soft voting).

    The message names the bad parameter, suggests the close one (``lr`` → ``learning_rate``, from
    the naming table or by spelling) and lists the valid ones.

    Raises:
        UnknownNameError: the kind (or a member's kind) is unknown (a ``KeyError`` too).
        ParameterError: an unknown parameter, or a word where a number or a flag goes (a ``TypeError`` too).
    """
    valid = param_names(kind)
    unknown = [] if valid is None else sorted(set(params) - set(valid))
    if unknown:
        hints = [f"{near!r} for {bad!r}" for bad, near in _nearest(unknown, valid) if near]
        hint = f" (did you mean {', '.join(hints)}?)" if hints else ""
        raise ParameterError(f"model kind {kind!r} has no parameter(s) {unknown}{hint}; valid: {valid}")
    words = _words_for_numbers(kind, params)
    if words:
        raise ParameterError(f"model kind {kind!r}: {'; '.join(words)}")
    members = params.get("members")
    if isinstance(members, list):
        for i, member in enumerate(members):
            if not isinstance(member, dict) or "kind" not in member:
                continue  # the ensemble says what a member must be when it is built
            try:
                check_params(member["kind"], {k: v for k, v in member.items() if k != "kind"})
            except (UnknownNameError, ParameterError) as exc:
                raise type(exc)(f"members[{i}]: {exc.args[0]}") from None


def _words_for_numbers(kind: str, params: dict[str, Any]) -> list[str]:
    """The values that are words where the parameter's default is a number or a flag (``C=abc``).

    Checked when the config is read: the estimator would refuse them only in ``fit``, after the
    data is loaded and earlier models trained, with its own traceback.
    """
    try:
        signature = inspect.signature(model_class(kind))
    except (TypeError, ValueError):  # a builder without a readable signature
        return []
    found = []
    for name, value in params.items():
        default = getattr(signature.parameters.get(name), "default", None)
        if not isinstance(value, str) or not isinstance(default, int | float):
            continue
        expected = "true or false" if isinstance(default, bool) else f"a number (default {default})"
        found.append(f"{name}={value!r} is not {expected}")
    return found


def _nearest(names: list[str], valid: list[str] | None) -> list[tuple[str, str | None]]:
    """Each name with the one it probably meant: the naming table's, else the closest spelling."""
    out = []
    for name in names:
        renamed = RENAMED.get(name)
        close = difflib.get_close_matches(name, valid or [], n=1, cutoff=0.75)
        out.append((name, renamed if renamed in (valid or []) else next(iter(close), None)))
    return out


def build_model(kind: str, params: dict[str, Any] | None = None) -> TextClassifier:
    """Build an unfitted model of ``kind`` with hyperparameters ``params``.

    Raises:
        UnknownNameError: the kind is unknown (a ``KeyError`` too).
        ParameterError: a parameter is not one the kind accepts (named in the message; a ``TypeError`` too).
    """
    params = dict(params or {})
    check_params(kind, params)
    return model_class(kind)(**params)
