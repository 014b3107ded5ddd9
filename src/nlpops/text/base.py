"""Shared pieces of the text steps: the step base class and input coercion."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sklearn.base import BaseEstimator, TransformerMixin

from nlpops.errors import ParameterError

LANGS = ("en", "fr")
_SPACES = re.compile(r"\s{2,}")


def as_texts(texts: str | Iterable[Any]) -> list[str]:
    """Turn one string, a list, an array or a pandas Series into a list of strings.

    Args:
        texts (str | Iterable[Any]): one text or many; ``None`` and NaN become ``""``.

    Returns:
        list[str]: the texts.
    """
    if isinstance(texts, str):
        return [texts]
    if hasattr(texts, "columns"):  # a one-column DataFrame, as MLflow's pyfunc passes it
        frame: Any = texts
        texts = frame.iloc[:, 0]
    return ["" if v is None or v != v else str(v) for v in texts]  # v != v catches NaN


def check_choice(name: str, value: str, choices: Iterable[str]) -> None:
    """Raise a ParameterError (a ValueError) naming ``value`` when it is not one of ``choices``.

    Args:
        name (str): the parameter name, for the message.
        value (str): the value given.
        choices (Iterable[str]): the allowed values.

    Raises:
        ParameterError: when ``value`` is not allowed.
    """
    allowed = tuple(choices)
    if value not in allowed:
        raise ParameterError(f"Unknown {name} {value!r}; known: {', '.join(allowed)}")


def squash(text: str) -> str:
    """Collapse runs of whitespace left by a replacement and strip the ends."""
    return _SPACES.sub(" ", text).strip()


class TextStep(TransformerMixin, BaseEstimator):
    """A stateless str → str step: subclasses implement ``apply`` (and may override ``_check``).

    Following the estimator contract, ``__init__`` only stores parameters; they are
    validated in ``_check`` at ``fit``/``transform`` time.
    """

    def _check(self) -> None:
        """Validate the parameters (nothing to check by default)."""

    def apply(self, text: str) -> str:
        """Transform one text.

        Args:
            text (str): the input.

        Returns:
            str: the transformed text.
        """
        raise NotImplementedError

    def fit(self, texts: str | Iterable[Any] | None = None, y: Any = None) -> TextStep:
        """Check the parameters; nothing is learnt.

        Args:
            texts (str | Iterable[Any] | None): unused.
            y (Any): ignored.

        Returns:
            TextStep: self.
        """
        self._check()
        return self

    def transform(self, texts: str | Iterable[Any]) -> list[str]:
        """Apply the step to every text.

        Args:
            texts (str | Iterable[Any]): one text or many.

        Returns:
            list[str]: the transformed texts.
        """
        self._check()
        apply = self.apply
        return [apply(t) for t in as_texts(texts)]

    def __sklearn_is_fitted__(self) -> bool:
        """Stateless steps are always ready."""
        return True
