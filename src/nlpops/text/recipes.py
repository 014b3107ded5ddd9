"""Named preprocessing recipes and the ``TextPipeline`` transformer that runs them.

>>> from nlpops.text import build_preprocessor
>>> build_preprocessor("minimal").transform(["Hi @bob, see http://x.co &amp; more!"])
['hi xxuser , see xxurl & more !']
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from sklearn.base import BaseEstimator, TransformerMixin

from nlpops.errors import ParameterError
from nlpops.memo import BoundedMemo
from nlpops.text.base import LANGS, TextStep, as_texts, check_choice
from nlpops.text.lexical import SEPARATORS
from nlpops.text.steps import StepSpec, build_step

_MINIMAL: list[StepSpec] = ["html", "unicode", "urls", "mentions", "lower", "tokenize"]
_TWEET: list[StepSpec] = [
    "html", "unicode", "urls", "mentions", "hashtags",
    "elongation", "slang", "emoji", "lower", "tokenize",
]  # fmt: skip

_FR_WORDS: list[StepSpec] = [*_TWEET[:4], "numbers", *_TWEET[4:-1], "elision", "tokenize", "stopwords"]

RECIPES: dict[str, list[StepSpec]] = {
    "none": [],
    # clean, lower-case, tokenise: links and users become placeholders before tokenising
    "minimal": _MINIMAL,
    # + hashtags as words, shortened elongations, slang expanded, emoji / emoticons as words
    "tweet": _TWEET,
    # + numbers as xxnum, stop words dropped (negations kept), Snowball stems / dictionary lemmas
    "stem": [*_TWEET[:4], "numbers", *_TWEET[4:], "stopwords", "stem"],
    "lemma": [*_TWEET[:4], "numbers", *_TWEET[4:], "stopwords", "lemma"],
    # French: + elisions split (l' → le, n' → ne) before tokenising, accents folded after the lemmas
    "fr_lemma": [*_FR_WORDS, "lemma", "accents"],
    "fr_stem": [*_FR_WORDS, "stem", "accents"],
}


# Steps whose output on a text is their outputs on its whitespace chunks, joined by whitespace: none of
# their patterns reaches across whitespace. Not "unicode": its mojibake repair is all or nothing per text.
CHUNK_LOCAL = frozenset(
    {"html", "urls", "mentions", "hashtags", "numbers", "emoji", "elongation", "slang", "lower",
     "tokenize", "stopwords", "stem", "lemma", "elision", "accents"}
)  # fmt: skip
CHUNK_CACHE_SIZE = 100_000


def _chunk_local_start(names: list[str]) -> int | None:
    """Where the chunk-local steps that end a recipe begin, if they include the tokenizer."""
    start = len(names)
    while start and names[start - 1] in CHUNK_LOCAL:
        start -= 1
    return start if "tokenize" in names[start:] else None


def _apply(steps: list[TextStep], text: str) -> str:
    """The steps on one text, its tokens joined by single spaces (a step after the tokenizer, such
    as accent folding on a lone combining mark, may empty a token)."""
    for step in steps:
        text = step.apply(text)
    return " ".join(text.split())


def _by_chunks(steps: list[TextStep], text: str, memo: BoundedMemo[str, str]) -> str:
    """The steps' output on ``text``, from their (memoised) outputs on its whitespace chunks.

    The steps include the tokenizer, so their output is tokens joined by spaces, and the tokens of a
    text are those of its chunks, except an ellipsis across whitespace (``"a. ..."``), whose text is
    then run whole.
    """
    if SEPARATORS.search(text):
        return _apply(steps, text)
    joined = " ".join(filter(None, map(memo.__getitem__, text.split())))
    # dots on both sides of a chunk boundary may be one ellipsis token: run the text whole then
    # (". ." inside one chunk's output is rare and only costs the same fallback)
    return joined if ". ." not in joined else _apply(steps, text)


def _resolve(recipe: str | list[StepSpec]) -> list[StepSpec]:
    """The step specs of a recipe name, or the list itself."""
    if isinstance(recipe, str):
        if recipe not in RECIPES:
            raise ParameterError(f"Unknown recipe {recipe!r}; known recipes: {', '.join(RECIPES)}")
        return RECIPES[recipe]
    return list(recipe)


class TextPipeline(TransformerMixin, BaseEstimator):
    """Run a recipe's steps in order: raw texts in, cleaned texts (``list[str]``) out.

    The steps are built from ``recipe`` and ``lang`` (the only parameters), so ``set_params``,
    ``clone`` and pickling behave as for any scikit-learn estimator.

    Args:
        recipe (str | list[StepSpec]): a name in ``RECIPES`` or a list of step names / dicts.
        lang (str): ``"en"`` or ``"fr"``, passed to the language-dependent steps.
    """

    def __init__(self, recipe: str | list[StepSpec] = "minimal", lang: str = "en") -> None:
        self.recipe = recipe
        self.lang = lang

    @property
    def steps(self) -> list[tuple[str, TextStep]]:
        """The ``(name, step)`` pairs, built from the current ``recipe`` and ``lang``."""
        check_choice("lang", self.lang, LANGS)
        key = (repr(self.recipe), self.lang)
        cached = self.__dict__.get("_steps_cache")
        if cached is None or cached[0] != key:
            cached = (key, [build_step(spec, self.lang) for spec in _resolve(self.recipe)])
            self.__dict__["_steps_cache"] = cached
        return list(cached[1])

    def fit(self, texts: str | Iterable[Any] | None = None, y: Any = None) -> TextPipeline:
        """Check the recipe; nothing is learnt.

        Args:
            texts (str | Iterable[Any] | None): unused.
            y (Any): ignored.

        Returns:
            TextPipeline: self.
        """
        for _, step in self.steps:
            step.fit(None)
        return self

    def transform(self, texts: str | Iterable[Any]) -> list[str]:
        """Clean texts.

        When the recipe ends with chunk-local steps that include the tokenizer (every named recipe
        does), those run once per distinct whitespace chunk (cached) instead of once per text: same
        output, several times faster on tweets, whose chunks repeat.

        Args:
            texts (str | Iterable[Any]): one text, a list, an array or a pandas Series.

        Returns:
            list[str]: one cleaned text per input.
        """
        out = as_texts(texts)
        pairs = self.steps
        start = _chunk_local_start([name for name, _ in pairs])
        steps = [step for _, step in pairs]
        for step in steps if start is None else steps[:start]:
            out = step.transform(out)
        if start is None:
            return out
        tail = steps[start:]
        for step in tail:
            step.fit(None)  # checks the parameters, as transform would
        memo = self._chunk_memo(tail)
        return [_by_chunks(tail, text, memo) for text in out]

    def _chunk_memo(self, tail: list[TextStep]) -> BoundedMemo[str, str]:
        """This recipe's chunk → output memo (a new one when ``set_params`` changed the recipe)."""
        key = (repr(self.recipe), self.lang)
        cached = self.__dict__.get("_chunk_outputs")
        if cached is None or cached[0] != key:
            memo = BoundedMemo(partial(_apply, tail), CHUNK_CACHE_SIZE)
            cached = self.__dict__["_chunk_outputs"] = (key, memo)
        return cached[1]

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the parameters only; the steps are rebuilt on first use."""
        state: dict[str, Any] = dict(super().__getstate__())  # a copy: never mutate self
        state.pop("_steps_cache", None)
        state.pop("_chunk_outputs", None)
        return state

    def __sklearn_is_fitted__(self) -> bool:
        """The pipeline is stateless, hence always ready."""
        return True


def build_preprocessor(recipe: str | list[StepSpec], lang: str = "en") -> TextPipeline:
    """Build (and validate) the preprocessing pipeline for a recipe.

    Args:
        recipe (str | list[StepSpec]): a name in ``RECIPES`` or a list such as
            ``["html", {"name": "urls", "mode": "remove"}, "lower", "tokenize"]``.
        lang (str): ``"en"`` or ``"fr"``.

    Returns:
        TextPipeline: the unfitted-but-ready pipeline.

    Raises:
        ParameterError: for an unknown recipe, step, parameter or language.
    """
    pipeline = TextPipeline(recipe=recipe, lang=lang)
    pipeline.fit()  # fails fast on a bad recipe
    return pipeline
