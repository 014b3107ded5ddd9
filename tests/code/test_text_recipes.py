"""Recipes and TextPipeline: behaviour, robustness (hypothesis), estimator contract, pickling."""

from __future__ import annotations

import pickle

import joblib
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from nlpops.text import RECIPES, STEPS, build_preprocessor, build_step, tokenize

TWEET = "@Bob I don't LOVE it!!!! soooo bad :( &amp; 😀 http://t.co/x #fail 42"
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize(
    ("recipe", "expected"),
    [
        ("none", TWEET),
        ("minimal", "xxuser i don't love it ! ! ! soooo bad :( & 😀 xxurl #fail 42"),
        ("tweet", "xxuser i do not love it ! ! soo bad sad & grinning face xxurl fail 42"),
        ("stem", "xxuser not love ! ! soo bad sad & grin face xxurl fail xxnum"),
        ("lemma", "xxuser not love ! ! soo bad sad & grin face xxurl fail xxnum"),
    ],
)
def test_recipes_on_a_tweet(recipe: str, expected: str) -> None:
    assert build_preprocessor(recipe).transform([TWEET]) == [expected]


def test_french_recipe_keeps_negation_and_accents() -> None:
    text = ["Jsp, je ne l'aime pas du tout, très déçu des élèves :("]
    assert build_preprocessor("lemma", lang="fr").transform(text) == [
        "ne savoir pas , ne aimer pas , déçu élève triste"
    ]
    assert build_preprocessor("stem", lang="fr").transform(text) == [
        "ne sais pas , ne aim pas , déçu élev trist"
    ]


def test_urls_never_survive_as_words() -> None:
    for recipe in ("minimal", "tweet", "stem", "lemma"):
        out = build_preprocessor(recipe).transform(["go to https://www.site.com/a-b?c=d. now"])[0]
        assert "site" not in out and "http" not in out and "xxurl" in out


def test_custom_recipe_with_dict_spec() -> None:
    pipe = build_preprocessor(["html", {"name": "urls", "mode": "remove"}, "lower", "tokenize"])
    assert pipe.transform("See http://x.co &amp; YOU!") == ["see & you !"]
    assert [name for name, _ in pipe.steps] == ["html", "urls", "lower", "tokenize"]


def test_inputs_list_str_series_are_equivalent() -> None:
    pipe = build_preprocessor("minimal")
    series = pd.Series(["Hello World", None])
    assert pipe.transform(series) == pipe.transform(["Hello World", ""]) == ["hello world", ""]
    assert pipe.transform("Hello World") == ["hello world"]
    assert pipe.fit_transform(["A B"]) == ["a b"]


def test_unknown_names_raise_value_error() -> None:
    with pytest.raises(ValueError, match=r"'bogus'.*known recipes: none, minimal"):
        build_preprocessor("bogus")
    with pytest.raises(ValueError, match=r"'nope'.*known steps"):
        build_preprocessor(["lower", "nope"])
    with pytest.raises(ValueError, match="lang 'de'"):
        build_preprocessor("stem", lang="de")


def test_get_params_set_params_and_clone() -> None:
    pipe = build_preprocessor("stem", lang="fr")
    assert pipe.get_params() == {"recipe": "stem", "lang": "fr"}
    copy = clone(pipe)
    assert copy.get_params() == pipe.get_params() and copy is not pipe
    assert copy.transform(["mangeaient"]) == pipe.transform(["mangeaient"])
    pipe.set_params(lang="en", recipe="lemma")
    assert pipe.transform(["running cats"]) == ["run cat"]  # steps follow the new params


@pytest.mark.parametrize("recipe", ["minimal", "stem", "lemma"])
def test_pickle_round_trip(recipe: str, tmp_path: object) -> None:
    pipe = build_preprocessor(recipe)
    texts = [TWEET, "Running cats :)", ""]
    expected = pipe.transform(texts)
    assert pickle.loads(pickle.dumps(pipe)).transform(texts) == expected
    path = f"{tmp_path}/pipe.joblib"
    joblib.dump(pipe, path)
    assert joblib.load(path).transform(texts) == expected


@pytest.mark.parametrize("name", sorted(STEPS))
def test_each_step_pickles(name: str) -> None:
    _, step = build_step(name)
    assert pickle.loads(pickle.dumps(step)).transform([TWEET]) == step.transform([TWEET])


@FAST
@given(text=st.text())
def test_no_step_raises_and_output_is_str(text: str) -> None:
    for name in STEPS:
        for lang in ("en", "fr"):
            out = build_step(name, lang)[1].transform([text])
            assert len(out) == 1 and isinstance(out[0], str)


@FAST
@given(text=st.text())
def test_no_recipe_raises_and_output_is_str(text: str) -> None:
    for recipe in RECIPES:
        out = build_preprocessor(recipe).transform([text])
        assert len(out) == 1 and isinstance(out[0], str)


@FAST
@given(text=st.text())
def test_idempotent_steps(text: str) -> None:
    for name in ("unicode", "lower", "elongation", "tokenize", "urls", "mentions", "numbers"):
        step = build_step(name)[1]
        once = step.transform([text])
        assert step.transform(once) == once, name


TWEET_WORDS = ["@bob", "http://x.co/a", "www.a.com", "&amp;", ":)", ":-(", "<3", "Hello", "don't", "u", "!!!",
               "sooo", "😀", "Été", "#tag", "42", "3.5", ",", "...", "l'ami", "co-op", "e-mail"]  # fmt: skip


@FAST
@given(words=st.lists(st.sampled_from(TWEET_WORDS), max_size=12), sep=st.sampled_from([" ", "  ", "\n"]))
def test_recipes_idempotent_on_tweet_like_text(words: list[str], sep: str) -> None:
    # Not on arbitrary strings: tokenising "0@0" or "@a@b" exposes a new mention for a second pass.
    text = sep.join(words)
    for recipe in ("minimal", "tweet"):
        pipe = build_preprocessor(recipe)
        once = pipe.transform([text])
        assert pipe.transform(once) == once, recipe


@FAST
@given(text=st.text(alphabet=st.characters(codec="ascii")))
def test_tokenize_agrees_with_nltk(text: str) -> None:
    from nltk.tokenize import TweetTokenizer

    assert tokenize(text) == TweetTokenizer(match_phone_numbers=False).tokenize(text)


# The patterns as first written: the faster ones (a literal-first mention pattern, a cheap URL
# pre-check) must find exactly the same matches.
_SLOW_MENTION = r"(?<![\w@])@\w+"
_URL_ALPHABET = "aw@._/:-#1 " + "comhtpsfrWC"


@settings(max_examples=400, deadline=None)
@given(text=st.text(alphabet=_URL_ALPHABET, max_size=40))
def test_fast_url_and_mention_steps_match_the_plain_patterns(text: str) -> None:
    import re

    from nlpops.text import normalize

    _, urls = build_step("urls")
    _, mentions = build_step("mentions")
    assert urls.transform([text]) == [
        normalize.squash(normalize.URL.sub(" xxurl ", text)) if normalize.URL.search(text) else text
    ]
    expected = re.sub(_SLOW_MENTION, " xxuser ", text)
    assert mentions.transform([text]) == [normalize.squash(expected) if expected != text else text]


def test_every_emoticon_passes_the_pre_check() -> None:
    from nlpops.text import emojis

    assert all(emojis._EMOTICON_HINT.search(face + face[-1]) for face in emojis.EMOTICONS)


@settings(max_examples=400, deadline=None)
@given(text=st.text(alphabet=":;=<>/)(]['3xXDpPoO*-a ", max_size=30))
def test_emoji_step_pre_check_never_changes_the_result(text: str) -> None:
    from nlpops.text import emojis

    _, step = build_step("emoji")
    out, n = emojis._EMOTICON.subn(lambda m: emojis._emoticon_words(m, "en"), text)
    assert step.transform([text]) == [emojis.squash(out) if n else text]


_PIECES = ["@bob", "http://x.co/a.", "www.a.com", "bit.ly/x", "&amp;", ":)", ":-(", "<3", "xD", "Hello",
           "don't", "idk", "u", "!!!", "sooo", "😀", "Été", "#tag", "42", "3.5", ",", "...", ".", "..", "a.",
           ".b", "l'ami", "qu'il", "ΟΔΟΣ", "co-op", "x@y", "&nbsp;", "N'est", "café", "cafÃ©", "!?", "-->",
           "—"]  # fmt: skip
_SEPS = [" ", "  ", "\n", "\t", "\u00a0", " \u2009", "\x1c", ""]


def _step_by_step(pipe: object, texts: list[str]) -> list[list[str]]:
    """The tokens of each text, running the steps in turn (whitespace left by a step that empties a
    token, such as accents stripping a lone combining mark, is not a token)."""
    out = texts
    for _, step in pipe.steps:  # type: ignore[attr-defined]
        out = step.transform(out)
    return [text.split() for text in out]


def _tokens(pipe: object, texts: list[str]) -> list[list[str]]:
    out = pipe.transform(texts)  # type: ignore[attr-defined]
    assert all(text == " ".join(text.split()) for text in out)  # single spaces, no empty token
    return [text.split() for text in out]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    words=st.lists(st.sampled_from(_PIECES), max_size=10),
    seps=st.lists(st.sampled_from(_SEPS), min_size=10, max_size=10),
    recipe=st.sampled_from(sorted(set(RECIPES) - {"none"})),  # "none" does not tokenise
)
def test_chunked_recipes_equal_running_the_steps_in_turn(
    words: list[str], seps: list[str], recipe: str
) -> None:
    # transform runs the chunk-local tail of a recipe once per whitespace chunk, from a cache
    text = "".join(w + s for w, s in zip(words, seps, strict=False))
    pipe = build_preprocessor(recipe, "fr" if recipe.startswith("fr") else "en")
    texts = [text, text.upper(), "a. " + text, text]  # the second copy is served from the cache
    assert _tokens(pipe, texts) == _step_by_step(pipe, texts)


@FAST
@given(text=st.text(max_size=60))
def test_chunked_recipes_equal_the_steps_on_any_text(text: str) -> None:
    for recipe in ("minimal", "tweet", "fr_lemma"):
        pipe = build_preprocessor(recipe, "fr" if recipe == "fr_lemma" else "en")
        assert _tokens(pipe, [text]) == _step_by_step(pipe, [text])


def test_chunk_cache_follows_set_params() -> None:
    pipe = build_preprocessor("minimal")
    assert pipe.transform(["Running dogs"]) == ["running dogs"]
    pipe.set_params(recipe="stem")
    assert pipe.transform(["Running dogs"]) == ["run dog"]
    assert "_chunk_outputs" not in pickle.loads(pickle.dumps(pipe)).__dict__
