"""Character-level normalisers: HTML entities, unicode, URLs, mentions, hashtags, numbers, case, elongation.

All are regex based and cheap; they run before tokenisation so that links never survive as words.
"""

from __future__ import annotations

import html
import re
import unicodedata

from nlpops.text.base import TextStep, check_choice, squash

MODES = ("placeholder", "remove")
HASHTAG_MODES = ("word", "placeholder", "remove")

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u200e\u200f\u2060\ufeff]")
_MOJIBAKE_HINT = re.compile(r"[ÂÃâ][\x80-\xbf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]")
# a link: with a scheme or www., or a bare domain with a common suffix (bit.ly/x); slices use it too
URL = re.compile(
    r"(?:https?://|www\.)\S+?(?=[.,!?;:)\]'\"]*(?:\s|$))"
    r"|(?<![\w@.])[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|ly|io|co|fr|me|gl|uk|de|tv|be)\b(?:/\S*)?",
    re.IGNORECASE,
)
# every URL match holds one of these: texts without them skip the costly pattern
_URL_HINT = re.compile(r"://|www\.|\.(?:com|org|net|ly|io|co|fr|me|gl|uk|de|tv|be)\b", re.IGNORECASE)
# "@" not after a word character or another "@"; the literal first lets the engine search for "@"
_MENTION = re.compile(r"@(?<![\w@]@)\w+")
_HASHTAG = re.compile(r"(?<![\w#&])#(\w+)")
_NUMBER = re.compile(r"(?<!\w)[+-]?\d+(?:[.,:/]\d+)*(?:%|st|nd|rd|th|k)?(?!\w)")
_LETTER_RUN = re.compile(r"([^\W\d_])(\1)\1+", re.IGNORECASE)
_PUNCT_RUN = re.compile(r"([!?.,*~-])\1{2,}")


def fix_mojibake(text: str) -> str:
    """Undo UTF-8 text that was decoded as cp1252 (``cafÃ©`` → ``café``), when it clearly is.

    Args:
        text (str): the input.

    Returns:
        str: the repaired text, or the input unchanged when the repair does not decode.
    """
    for _ in range(2):  # double-encoded text needs two rounds
        if not _MOJIBAKE_HINT.search(text):
            break
        try:
            text = text.encode("cp1252").decode("utf-8")
        except UnicodeError:
            break
    return text


class HtmlStep(TextStep):
    """Unescape HTML entities (``&amp;`` → ``&``, ``&quot;`` → ``"``)."""

    def apply(self, text: str) -> str:
        """Unescape one text."""
        return html.unescape(text) if "&" in text else text


class UnicodeStep(TextStep):
    """Repair simple mojibake, drop control / zero-width characters, then NFKC-normalise."""

    def apply(self, text: str) -> str:
        """Normalise one text."""
        if text.isascii():
            return _CONTROL.sub("", text)
        # repair before NFKC (which turns the NBSP of "Ã\xa0", i.e. "à", into a space) and again
        # after it (NFKC can compose a mojibake-like pair), so that the step stays idempotent
        text = unicodedata.normalize("NFKC", _CONTROL.sub("", fix_mojibake(text)))
        fixed = fix_mojibake(text)
        return text if fixed == text else unicodedata.normalize("NFKC", _CONTROL.sub("", fixed))


class _ReplaceStep(TextStep):
    """Replace the matches of ``_pattern`` by ``_placeholder`` or remove them, by ``mode``."""

    _pattern: re.Pattern[str]
    _placeholder: str
    _hint: re.Pattern[str] | None = None  # when set, a text it does not find has no match

    def __init__(self, mode: str = "placeholder") -> None:
        self.mode = mode

    def _check(self) -> None:
        check_choice("mode", self.mode, MODES)

    def apply(self, text: str) -> str:
        """Replace (or remove) the matches in one text."""
        if self._hint is not None and not self._hint.search(text):
            return text
        repl = f" {self._placeholder} " if self.mode == "placeholder" else " "
        out, n = self._pattern.subn(repl, text)
        return squash(out) if n else text


class UrlStep(_ReplaceStep):
    """Links (``http://…``, ``www.…``, ``bit.ly/…``) → ``xxurl`` (or removed with ``mode="remove"``).

    Args:
        mode (str): ``"placeholder"`` or ``"remove"``.
    """

    _pattern = URL
    _placeholder = "xxurl"
    _hint = _URL_HINT


class MentionStep(_ReplaceStep):
    """User mentions (``@name``) → ``xxuser`` (or removed with ``mode="remove"``).

    Args:
        mode (str): ``"placeholder"`` or ``"remove"``.
    """

    _pattern = _MENTION
    _placeholder = "xxuser"


class NumberStep(_ReplaceStep):
    """Numbers (``42``, ``3.5``, ``10:30``, ``50%``, ``1st``) → ``xxnum`` (or removed).

    Args:
        mode (str): ``"placeholder"`` or ``"remove"``.
    """

    _pattern = _NUMBER
    _placeholder = "xxnum"


class HashtagStep(TextStep):
    """Hashtags: keep the word (``#happy`` → ``happy``), use ``xxhashtag``, or remove them.

    Args:
        mode (str): ``"word"`` (default), ``"placeholder"`` or ``"remove"``.
    """

    def __init__(self, mode: str = "word") -> None:
        self.mode = mode

    def _check(self) -> None:
        check_choice("mode", self.mode, HASHTAG_MODES)

    def apply(self, text: str) -> str:
        """Rewrite the hashtags of one text."""
        if "#" not in text:
            return text
        if self.mode == "word":
            return _HASHTAG.sub(r"\1", text)
        out = _HASHTAG.sub(" xxhashtag " if self.mode == "placeholder" else " ", text)
        return squash(out)


class ElongationStep(TextStep):
    """Shorten letter runs to two (``soooo`` → ``soo``) and punctuation runs to two (``!!!!`` → ``!!``)."""

    def apply(self, text: str) -> str:
        """Shorten the runs of one text."""
        return _PUNCT_RUN.sub(r"\1\1", _LETTER_RUN.sub(r"\1\2", text))


class LowerStep(TextStep):
    """Lower-case the text."""

    def apply(self, text: str) -> str:
        """Lower-case one text."""
        return text.lower()
