"""Each text step on before/after examples."""

from __future__ import annotations

import pytest

from nlpops.text import STEPS, build_step, tokenize
from nlpops.text.lexical import stop_words


def run(spec: str | dict[str, str], text: str, lang: str = "en") -> str:
    """Apply one step, built from its spec, to one text."""
    _, step = build_step(spec, lang)
    out = step.fit([text]).transform([text])
    assert isinstance(out, list) and len(out) == 1
    return out[0]


@pytest.mark.parametrize(
    ("spec", "before", "after"),
    [
        ("html", "fish &amp; chips &quot;yum&quot; &lt;3", 'fish & chips "yum" <3'),
        ("html", "no entities", "no entities"),
        ("unicode", "ｆｕｌｌ width ﬁ", "full width fi"),
        ("unicode", "caf\u00c3\u00a9 d\u00c3\u00a9j\u00c3\u00a0", "café déjà"),
        ("unicode", "a\x00b\u200bc\x07", "abc"),
        ("unicode", "e\u0301t\u00e9", "été"),
        ("urls", "see http://t.co/abc!", "see xxurl !"),
        ("urls", "www.example.com/page and bit.ly/x1", "xxurl and xxurl"),
        ("urls", "(https://a.b/c?d=1) ok", "( xxurl ) ok"),
        ("urls", "mail me@site.com", "mail me@site.com"),
        ({"name": "urls", "mode": "remove"}, "look http://x.com now", "look now"),
        ("mentions", "@bob hi @ann_2!", "xxuser hi xxuser !"),
        ("mentions", "a@b.com", "a@b.com"),
        ({"name": "mentions", "mode": "remove"}, "@bob hi", "hi"),
        ("hashtags", "so #happy today", "so happy today"),
        ({"name": "hashtags", "mode": "placeholder"}, "#happy day", "xxhashtag day"),
        ({"name": "hashtags", "mode": "remove"}, "day #happy", "day"),
        ("hashtags", "&#39; kept", "&#39; kept"),
        ("numbers", "42 cats, 3.5 dogs at 10:30, 50% off", "xxnum cats, xxnum dogs at xxnum , xxnum off"),
        ("numbers", "gr8 b4 2day", "gr8 b4 2day"),
        ({"name": "numbers", "mode": "remove"}, "top 10 list", "top list"),
        ("emoji", "good 😀", "good grinning face"),
        ("emoji", "ok 👍🏽", "ok thumbs up medium skin tone"),
        ("emoji", "hi :) bye :-( lol :D ;) <3 </3", "hi smile bye sad lol laugh wink love broken heart"),
        ("emoji", "great:))) xD", "great smile laugh"),
        ("emoji", "http://x.com/a 10:00 boxDrop", "http://x.com/a 10:00 boxDrop"),
        ("elongation", "soooo goooood!!!!!", "soo good!!"),
        ("elongation", "Ggggrrr ... 1000", "Ggrr .. 1000"),
        ("slang", "u r gr8, idk", "you are great, i do not know"),
        ("slang", "I don't, can't, won't", "I do not, can not, will not"),
        ("slang", "DON’T stop", "do not stop"),
        ("lower", "HeLLo ÉTÉ", "hello été"),
        ("tokenize", "Hi,  you :) #fun @bob http://x.co/a", "Hi , you :) #fun @bob http://x.co/a"),
        ("tokenize", "wait... for it . . .", "wait ... for it . . ."),
        ("stopwords", "i do not like this at all", "not like"),
        ("stopwords", "nobody said nothing , never", "nobody said nothing , never"),
        ("stem", "running cats xxurl xxuser :)", "run cat xxurl xxuser :)"),
        ("lemma", "running cats were better xxurl", "run cat be good xxurl"),
    ],
)
def test_step_en(spec: str | dict[str, str], before: str, after: str) -> None:
    assert run(spec, before) == after


@pytest.mark.parametrize(
    ("spec", "before", "after"),
    [
        ("slang", "slt stp jsp pk", "salut s'il te plaît je ne sais pas pourquoi"),
        ("slang", "c bien", "c'est bien"),
        ("emoji", "bof :( 😀", "bof triste visage rieur"),
        ("stopwords", "je ne sais pas si il est jamais là", "ne sais pas jamais"),
        ("stopwords", "rien ni personne sans aucun", "rien ni personne sans aucun"),
        ("stem", "mangeaient rapidement", "mang rapid"),
        ("lemma", "mangeaient chevaux étaient", "manger cheval être"),
        ("lower", "ÉTÉ À Noël", "été à noël"),
    ],
)
def test_step_fr(spec: str, before: str, after: str) -> None:
    assert run(spec, before, lang="fr") == after


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_stopwords_never_drop_negations(lang: str) -> None:
    negations = {
        "en": ["not", "no", "never", "n't", "nor", "cannot", "without"],
        "fr": ["ne", "pas", "jamais"],
    }
    assert not set(negations[lang]) & stop_words(lang)


def test_stem_and_lemma_differ() -> None:
    assert run("stem", "studies better") == "studi better"
    assert run("lemma", "studies better") == "study good"


def test_tokenize_helper_returns_list() -> None:
    assert tokenize("I can't wait :) #fun") == ["I", "can't", "wait", ":)", "#fun"]


@pytest.mark.parametrize(
    "text",
    [
        "a. .. b",
        "end.  .",
        "x... y.",
        "so, yes!! ok? fine.",
        "l'été... là.",
        "phone 555-123-4567 ok",
        "&amp; a",
    ],
)
def test_tokenize_matches_nltk(text: str) -> None:
    from nltk.tokenize import TweetTokenizer

    assert tokenize(text) == TweetTokenizer(match_phone_numbers=False).tokenize(text)


@pytest.mark.parametrize("name", sorted(STEPS))
def test_step_accepts_one_string_and_none(name: str) -> None:
    _, step = build_step(name)
    assert step.transform("Hello :)") == [step.transform(["Hello :)"])[0]]
    assert step.transform([None]) == step.transform([""])


@pytest.mark.parametrize(
    "spec",
    [{"name": "urls", "mode": "nope"}, {"name": "hashtags", "mode": "x"}, {"name": "stem", "lang": "de"}],
)
def test_bad_step_parameter_raises(spec: dict[str, str]) -> None:
    _, step = build_step(spec)
    with pytest.raises(ValueError, match="Unknown"):
        step.transform(["text"])


def test_unknown_step_raises_naming_it() -> None:
    with pytest.raises(ValueError, match=r"'bogus'.*known steps: html"):
        build_step("bogus")
    with pytest.raises(ValueError, match=r"Unknown parameter\(s\) \['colour'\]"):
        build_step({"name": "lower", "colour": "red"})
