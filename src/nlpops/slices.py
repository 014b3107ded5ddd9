"""Slices of the data that models often get wrong: predicates on the raw text, looked up by name."""

from __future__ import annotations

import re
from collections.abc import Callable

from nlpops.text.normalize import URL

SHORT_MAX_WORDS = 7  # short: fewer than 8 words
LONG_MIN_WORDS = 25
_MENTION = re.compile(r"(?<![\w@])@\w+")
_HASHTAG = re.compile(r"(?<![\w&])#\w+")  # the lookbehind skips HTML entities such as &#39;
_NEGATION = re.compile(
    r"\b(?:not|no|never|nothing|nobody|none|nowhere|neither|nor|cannot|without"
    r"|dont|cant|wont|isnt|arent|wasnt|werent|didnt|doesnt|couldnt|wouldnt|shouldnt|aint"
    r"|ne|pas|jamais|rien|aucun|aucune|ni|sans)\b"
    r"|n['’]t\b"  # English contractions: don't, isn’t
    r"|\bn['’](?=\w)",  # French elision: n'est, n’ai
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+")


def _has_all_caps_word(text: str) -> bool:
    """True if a word of 3+ letters is all upper case ("LOVE", also acronyms like "USA")."""
    return any(len(w) >= 3 and w.isalpha() and w.isupper() for w in _WORD.findall(text))


# name -> predicate on the raw text; add entries to evaluate more slices
SLICES: dict[str, Callable[[str], bool]] = {
    "short": lambda text: len(text.split()) <= SHORT_MAX_WORDS,
    "long": lambda text: len(text.split()) >= LONG_MIN_WORDS,
    "has_url": lambda text: URL.search(text) is not None,
    "has_mention": lambda text: _MENTION.search(text) is not None,
    "has_hashtag": lambda text: _HASHTAG.search(text) is not None,
    "negation": lambda text: _NEGATION.search(text) is not None,
    "all_caps_word": _has_all_caps_word,
}
