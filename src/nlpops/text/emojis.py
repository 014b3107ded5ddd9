"""Emoji and emoticons → words, so that their sentiment reaches bag-of-words models."""

from __future__ import annotations

import re
from functools import lru_cache

import emoji

from nlpops.text.base import LANGS, TextStep, check_choice, squash

# emoticon → (English, French) words
EMOTICONS: dict[str, tuple[str, str]] = {
    ":)": ("smile", "sourire"), ":-)": ("smile", "sourire"), ":]": ("smile", "sourire"),
    "=)": ("smile", "sourire"), ":(": ("sad", "triste"), ":-(": ("sad", "triste"),
    ":[": ("sad", "triste"), "=(": ("sad", "triste"), ":D": ("laugh", "rire"),
    ":-D": ("laugh", "rire"), "xD": ("laugh", "rire"), "XD": ("laugh", "rire"),
    ";)": ("wink", "clin d'oeil"), ";-)": ("wink", "clin d'oeil"), ";D": ("wink", "clin d'oeil"),
    ":P": ("tongue", "langue"),
    ":p": ("tongue", "langue"), ":-P": ("tongue", "langue"), ":-p": ("tongue", "langue"),
    "<3": ("love", "amour"), "</3": ("broken heart", "coeur brisé"), ":'(": ("cry", "pleure"),
    ":O": ("surprise", "surprise"), ":o": ("surprise", "surprise"), ":-O": ("surprise", "surprise"),
    ":/": ("skeptical", "sceptique"), ":-/": ("skeptical", "sceptique"), ":*": ("kiss", "bisou"),
    ":-*": ("kiss", "bisou"), ">:(": ("angry", "colère"),
}  # fmt: skip


def _emoticon_alternative(face: str) -> str:
    """Regex for one emoticon: its last character may repeat (``:)))``); letter-led ones need a boundary."""
    body = re.escape(face) + re.escape(face[-1]) + "*"
    return (r"(?<!\w)" if face[0].isalpha() else "") + body


_EMOTICON = re.compile(
    r"(?<![:;=/<>])(?:"
    + "|".join(_emoticon_alternative(f) for f in sorted(EMOTICONS, key=len, reverse=True))
    + r")(?![\w/])"
)

# every emoticon holds one of these: texts without them skip the costly pattern
_EMOTICON_HINT = re.compile(r"[:;=<]|[xX]D")


@lru_cache(maxsize=4096)
def emoji_words(chars: str, lang: str) -> str:
    """The name of one emoji as space-separated words (``😀`` → ``grinning face``).

    Args:
        chars (str): the emoji characters.
        lang (str): ``"en"`` or ``"fr"``.

    Returns:
        str: the words, padded with spaces.
    """
    name = emoji.demojize(chars, delimiters=("", ""), language=lang)
    return " " + name.replace("_", " ") + " "


def _emoticon_words(match: re.Match[str], lang: str) -> str:
    """Words for a matched emoticon, dropping its repeated last characters."""
    face = match.group(0)
    while face not in EMOTICONS:
        face = face[:-1]
    return " " + EMOTICONS[face][LANGS.index(lang)] + " "


class EmojiStep(TextStep):
    """Emoji → their names (``😀`` → ``grinning face``), emoticons → words (``:)`` → ``smile``).

    Args:
        lang (str): ``"en"`` or ``"fr"``: the language of the words.
    """

    def __init__(self, lang: str = "en") -> None:
        self.lang = lang

    def _check(self) -> None:
        check_choice("lang", self.lang, LANGS)

    def apply(self, text: str) -> str:
        """Rewrite the emoji and emoticons of one text."""
        lang = self.lang
        out, n = text, 0
        if _EMOTICON_HINT.search(text):
            out, n = _EMOTICON.subn(lambda m: _emoticon_words(m, lang), text)
        if not out.isascii():  # most tweets are ASCII: skip the slower emoji scan
            replaced = emoji.replace_emoji(out, replace=lambda chars, _: emoji_words(chars, lang))
            n += replaced != out
            out = replaced
        return squash(out) if n else text
