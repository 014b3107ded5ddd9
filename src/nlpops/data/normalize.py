"""Text normalisation shared by duplicate detection, splitting and leakage checks."""

from __future__ import annotations

import re
import unicodedata

_URL_OR_MENTION_RE = re.compile(r"(?:https?://|www\.)\S+|@\w+")


def normalize_text(text: str) -> str:
    """Normalise a text for duplicate detection: NFKC, lower case, no URLs/mentions, single spaces.

    Args:
        text (str): The raw text.

    Returns:
        str: The normalised text (may be empty, e.g. for a text that was only a link).

    >>> normalize_text("  @Bob  Look: HTTP://x.co/a   ｎｏｗ ")
    'look: now'
    """
    text = unicodedata.normalize("NFKC", text).lower()
    if "@" in text or "http" in text or "www." in text:  # the regex is the slow part: skip it when useless
        text = _URL_OR_MENTION_RE.sub(" ", text)
    return " ".join(text.split())
