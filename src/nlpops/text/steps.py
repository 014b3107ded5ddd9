"""The registry of text steps: each name maps to a scikit-learn transformer class (str → str)."""

from __future__ import annotations

import inspect
from typing import Any

from nlpops.errors import ParameterError
from nlpops.text.base import TextStep
from nlpops.text.emojis import EmojiStep
from nlpops.text.french import AccentStep, ElisionStep
from nlpops.text.lexical import LemmaStep, SlangStep, StemStep, StopwordStep, TokenizeStep
from nlpops.text.normalize import (
    ElongationStep,
    HashtagStep,
    HtmlStep,
    LowerStep,
    MentionStep,
    NumberStep,
    UnicodeStep,
    UrlStep,
)

STEPS: dict[str, type[TextStep]] = {
    "html": HtmlStep,
    "unicode": UnicodeStep,
    "urls": UrlStep,
    "mentions": MentionStep,
    "hashtags": HashtagStep,
    "numbers": NumberStep,
    "emoji": EmojiStep,
    "elongation": ElongationStep,
    "slang": SlangStep,
    "lower": LowerStep,
    "tokenize": TokenizeStep,
    "stopwords": StopwordStep,
    "stem": StemStep,
    "lemma": LemmaStep,
    "elision": ElisionStep,
    "accents": AccentStep,
}

StepSpec = str | dict[str, Any]


def build_step(spec: StepSpec, lang: str = "en") -> tuple[str, TextStep]:
    """Build one step from its name or from ``{"name": ..., **params}``.

    ``lang`` is passed to the steps that take it, unless the spec sets its own.

    Args:
        spec (StepSpec): ``"urls"`` or ``{"name": "urls", "mode": "remove"}``.
        lang (str): the default language.

    Returns:
        tuple[str, TextStep]: the step name and the step.

    Raises:
        ParameterError: for an unknown step name or a malformed spec.
    """
    params = {"name": spec} if isinstance(spec, str) else dict(spec)
    name = params.pop("name", None)
    if not isinstance(name, str) or name not in STEPS:
        raise ParameterError(f"Unknown text step {name!r}; known steps: {', '.join(STEPS)}")
    cls = STEPS[name]
    accepted = inspect.signature(cls.__init__).parameters
    if "lang" in accepted:
        params.setdefault("lang", lang)
    unknown = set(params) - set(accepted)
    if unknown:
        raise ParameterError(f"Unknown parameter(s) {sorted(unknown)} for text step {name!r}")
    return name, cls(**params)
