"""Word-level steps: slang expansion, tokenisation, stop words, stemming and lemmatisation.

Heavy resources (NLTK's tokenizer, spaCy's stop-word lists, Snowball stemmers, simplemma's
dictionaries) are loaded lazily in module-level caches, never stored on the steps, so the steps
pickle as plain parameters.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from nlpops.memo import BoundedMemo
from nlpops.text.base import LANGS, TextStep, check_choice

NEGATIONS: dict[str, frozenset[str]] = {
    "en": frozenset({"not", "no", "nor", "never", "n't", "n’t", "none", "nobody", "nothing", "neither"})
    | {"nowhere", "cannot", "without"},
    "fr": frozenset(
        {"ne", "n'", "pas", "plus", "jamais", "rien", "aucun", "aucune", "ni", "personne", "sans"}
    )
    | {"n’", "non", "nul", "nulle", "nullement", "aucunement", "guère"},
}
_SPACE_SPLIT = re.compile(r"([^\S\x1c-\x1f]+)")  # the `regex` module's \s, as NLTK uses
_SPACES = re.compile(r"[^\S\x1c-\x1f]+")
_DOTS_ACROSS_SPACE = re.compile(r"\.[^\S\x1c-\x1f]+\.")
SEPARATORS = re.compile(r"[\x1c-\x1f]")  # whitespace to str.split, not to NLTK
CHUNK_CACHE_SIZE = 100_000  # ≈ 20 MB; tweets repeat most of their chunks well within that
_FINAL_PUNCT = frozenset(",!?.")
_WORD = re.compile(r"(?<![\w'’])[\w'’]+(?![\w'’])")
_STEMMER_LANG = {"en": "english", "fr": "french"}
_local = threading.local()  # Snowball stemmers are not thread-safe: one per thread


@cache
def slang_table(lang: str) -> dict[str, str]:
    """The slang / contraction table shipped for ``lang`` (``resources/slang_<lang>.tsv``).

    Args:
        lang (str): ``"en"`` or ``"fr"``.

    Returns:
        dict[str, str]: lower-case token → expansion.
    """
    path = resources.files("nlpops.text") / "resources" / f"slang_{lang}.tsv"
    table: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            token, expansion = line.split("\t", 1)
            table[token.strip()] = expansion.strip()
    return table


@lru_cache(maxsize=1)
def _tweet_tokenizer() -> Any:
    """NLTK's TweetTokenizer (regex only: no data download; no phone-number rule, which is slow)."""
    from nltk.tokenize import TweetTokenizer

    return TweetTokenizer(preserve_case=True, reduce_len=False, match_phone_numbers=False)


def _nltk_tokens(text: str) -> list[str]:
    """TweetTokenizer's tokens, or a whitespace split for input that trips its ReDoS time guard."""
    try:
        return list(_tweet_tokenizer().tokenize(text))
    except TimeoutError:
        return text.split()


def _chunk_tokens(chunk: str) -> tuple[str, ...]:
    """The tokens of one whitespace chunk (memoised in ``_CHUNK_TOKENS``)."""
    if chunk.isalpha():
        return (chunk,)
    if chunk[-1:] in _FINAL_PUNCT and chunk[:-1].isalpha():
        return (chunk[:-1], chunk[-1])
    return tuple(_nltk_tokens(chunk)) if chunk else ()


_CHUNK_TOKENS: BoundedMemo[str, tuple[str, ...]] = BoundedMemo(_chunk_tokens, CHUNK_CACHE_SIZE)


def _group_tokens(group: list[str]) -> Sequence[str]:
    """The tokens of one chunk, or of chunks (with their whitespace) that dots join."""
    return _CHUNK_TOKENS[group[0]] if len(group) == 1 else _nltk_tokens("".join(group))


def _tokenize_groups(text: str) -> list[str]:
    """Tokens of a text where dots across whitespace (``". . ."``) join chunks into one token."""
    parts = _SPACE_SPLIT.split(text)  # chunks at even indices, whitespace at odd ones
    tokens: list[str] = []
    group: list[str] = []  # one chunk, or chunks that such dots join (with their whitespace)
    for i in range(0, len(parts), 2):
        chunk = parts[i]
        if not chunk:
            continue
        if group and group[-1][-1] == "." and chunk[0] == ".":
            group += (parts[i - 1], chunk)
            continue
        if group:
            tokens += _group_tokens(group)
        group = [chunk]
    if group:
        tokens += _group_tokens(group)
    return tokens


def tokenize(text: str) -> list[str]:
    """Split a text into tweet-aware tokens (emoticons, hashtags, mentions and URLs stay whole).

    Same tokens as NLTK's ``TweetTokenizer``, faster: its tokens never span whitespace except an
    ellipsis (``". . ."``), so each whitespace chunk is tokenised once and cached (chunks repeat
    across a stream of texts), and only chunks that such dots join are tokenised together.

    >>> tokenize("I can't wait :) #fun")
    ['I', "can't", 'wait', ':)', '#fun']

    Args:
        text (str): the text.

    Returns:
        list[str]: the tokens.
    """
    if _DOTS_ACROSS_SPACE.search(text):
        return _tokenize_groups(text)
    # str.split's whitespace is NLTK's plus the \x1c-\x1f separators
    chunks = _SPACES.split(text) if SEPARATORS.search(text) else text.split()
    memo = _CHUNK_TOKENS
    tokens: list[str] = []
    for chunk in chunks:
        tokens += memo[chunk]
    return tokens


@cache
def stop_words(lang: str) -> frozenset[str]:
    """spaCy's stop words for ``lang``, minus the negations (they carry sentiment).

    Args:
        lang (str): ``"en"`` or ``"fr"``.

    Returns:
        frozenset[str]: the lower-case stop words.
    """
    if lang == "fr":
        from spacy.lang.fr.stop_words import STOP_WORDS
    else:
        from spacy.lang.en.stop_words import STOP_WORDS
    return frozenset(STOP_WORDS) - NEGATIONS[lang]


def _stemmer(lang: str) -> Any:
    """This thread's Snowball stemmer for ``lang``."""
    stemmers: dict[str, Any] = _local.__dict__.setdefault("stemmers", {})
    if lang not in stemmers:
        import Stemmer

        stemmers[lang] = Stemmer.Stemmer(_STEMMER_LANG[lang])
    return stemmers[lang]


@lru_cache(maxsize=200_000)
def stem_word(token: str, lang: str) -> str:
    """Snowball stem of one token (cached)."""
    return str(_stemmer(lang).stemWord(token))


@lru_cache(maxsize=200_000)
def lemma_word(token: str, lang: str) -> str:
    """simplemma lemma of one token (cached)."""
    import simplemma

    lemma = str(simplemma.lemmatize(token, lang=lang))
    return lemma.lower() if token.islower() else lemma  # simplemma capitalises proper nouns


def _keep_as_is(token: str) -> bool:
    """Placeholders (``xxurl``…) and tokens without letters are never stemmed or lemmatised."""
    return token.startswith("xx") or not any(c.isalpha() for c in token)


class _LangStep(TextStep):
    """A step whose behaviour depends on the language."""

    def __init__(self, lang: str = "en") -> None:
        self.lang = lang

    def _check(self) -> None:
        check_choice("lang", self.lang, LANGS)


class SlangStep(_LangStep):
    """Expand slang and contractions from a small table (``u`` → ``you``, ``don't`` → ``do not``).

    Expanding negated contractions keeps ``not`` as its own token for the later steps.

    Args:
        lang (str): ``"en"`` or ``"fr"``: which table.
    """

    def apply(self, text: str) -> str:
        """Expand the slang of one text."""
        table = slang_table(self.lang)

        def expand(match: re.Match[str]) -> str:
            word = match.group(0)
            return table.get(word.lower().replace("’", "'"), word)

        return _WORD.sub(expand, text)


class TokenizeStep(TextStep):
    """Tweet-aware tokenisation; tokens come back joined by single spaces (str → str)."""

    def apply(self, text: str) -> str:
        """Tokenise one text."""
        return " ".join(tokenize(text))


class StopwordStep(_LangStep):
    """Drop spaCy's stop words, always keeping negations (``not``, ``never``, ``pas``, ``jamais``…).

    Args:
        lang (str): ``"en"`` or ``"fr"``.
    """

    def apply(self, text: str) -> str:
        """Drop the stop words of one (tokenised) text."""
        stops = stop_words(self.lang)
        return " ".join(t for t in text.split() if t.lower() not in stops)


class StemStep(_LangStep):
    """Snowball stemming (PyStemmer) of each whitespace token; expects lower-case text.

    Args:
        lang (str): ``"en"`` or ``"fr"``.
    """

    def apply(self, text: str) -> str:
        """Stem one (tokenised) text."""
        lang = self.lang
        return " ".join(t if _keep_as_is(t) else stem_word(t, lang) for t in text.split())


class LemmaStep(_LangStep):
    """Dictionary lemmatisation (simplemma) of each whitespace token.

    Args:
        lang (str): ``"en"`` or ``"fr"``.
    """

    def apply(self, text: str) -> str:
        """Lemmatise one (tokenised) text."""
        lang = self.lang
        return " ".join(t if _keep_as_is(t) else lemma_word(t, lang) for t in text.split())
