"""French-specific steps: elisions split into whole words, and accents folded.

``l'État`` is one token for a tweet tokenizer, and simplemma lemmatises ``n'est`` to ``être``,
losing the negation; splitting elisions first (``l'`` → ``le``, ``n'`` → ``ne``, ``qu'`` → ``que``)
lets the stop-word step drop the articles and keep ``ne``. Citizens often type without accents
(``etat``, ``elus``), so the French recipes fold accents last, after the lemmatiser has used them.

>>> ElisionStep().apply("l’État n'est qu'une honte")
'le État ne est que une honte'
>>> AccentStep().apply("élus Incompétents, même à Noël")
'elus Incompetents, meme a Noel'
"""

from __future__ import annotations

import re
import unicodedata

from nlpops.text.base import TextStep, check_choice

# elided word -> its full form (``l'`` stands for "le" or "la": both are stop words)
ELISIONS: dict[str, str] = {
    "l": "le", "d": "de", "j": "je", "m": "me", "t": "te", "s": "se", "c": "ce", "n": "ne",
    "qu": "que", "jusqu": "jusque", "lorsqu": "lorsque", "puisqu": "puisque", "quoiqu": "quoique",
}  # fmt: skip
_ELISION = re.compile(
    r"(?<![\w'’])(" + "|".join(sorted(ELISIONS, key=len, reverse=True)) + r")['’](?=\w)", re.I
)
ACCENT_MODES = ("strip", "keep")


def _full_form(match: re.Match[str]) -> str:
    """The full word of an elision, capitalised like it, and a space."""
    word = match.group(1)
    full = ELISIONS[word.lower()]
    return (full.capitalize() if word[0].isupper() else full) + " "


class ElisionStep(TextStep):
    """Split French elisions into their full word: ``l'État`` → ``le État``, ``qu'il`` → ``que il``.

    Straight and curly apostrophes are both handled; ``aujourd'hui`` and ``quelqu'un`` are left whole.
    """

    def apply(self, text: str) -> str:
        """Split the elisions of one text."""
        if "'" not in text and "’" not in text:
            return text
        return _ELISION.sub(_full_form, text)


def strip_accents(text: str) -> str:
    """Remove diacritics (``é`` → ``e``, ``ç`` → ``c``, ``œ`` stays); the result is NFC.

    Args:
        text (str): the input.

    Returns:
        str: the text without combining marks.
    """
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


class AccentStep(TextStep):
    """Fold accents so that ``élus`` and ``elus`` are one word (``mode="strip"``), or only compose
    them consistently (``mode="keep"``: NFC, so ``e`` + combining acute equals ``é``).

    Args:
        mode (str): ``"strip"`` (default) or ``"keep"``.
    """

    def __init__(self, mode: str = "strip") -> None:
        self.mode = mode

    def _check(self) -> None:
        check_choice("mode", self.mode, ACCENT_MODES)

    def apply(self, text: str) -> str:
        """Fold (or compose) the accents of one text."""
        if self.mode == "strip":
            return strip_accents(text)
        return unicodedata.normalize("NFC", text)
