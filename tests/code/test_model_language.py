"""``declared_languages``: what a model's own settings say it reads, member by member."""

from __future__ import annotations

import pytest

from nlpops.models import build_model
from nlpops.models.language import declared_languages


@pytest.mark.parametrize(
    ("kind", "params", "expected"),
    [
        ("tfidf_lr", {}, ["en"]),  # lang defaults to "en", and the recipe uses it
        ("tfidf_lr", {"recipe": "fr_lemma", "lang": "fr"}, ["fr"]),
        ("tfidf_lr", {"recipe": "none", "lang": "fr"}, []),  # raw text: lang changes nothing
        ("vader", {"lang": "fr"}, ["en"]),  # VADER's lexicon is English whatever the recipe
        ("spacy_vectors", {"spacy_model": "fr_core_news_md"}, ["fr"]),
        ("spacy_vectors", {"spacy_model": "en_core_web_md"}, ["en"]),
        ("spacy_vectors", {"spacy_model": "xx_ent_wiki_sm"}, []),  # multilingual
        ("sentence_lr", {"checkpoint": "minilm", "lang": "fr"}, ["en"]),  # the encoder decides
        ("transformer", {"checkpoint": "camembert-base"}, ["fr"]),
        ("transformer", {"checkpoint": "/models/mine", "lang": "fr"}, []),  # a folder says nothing
    ],
)
def test_languages_from_the_settings(kind: str, params: dict[str, object], expected: list[str]) -> None:
    assert declared_languages(build_model(kind, params)) == expected


def test_an_ensemble_lists_its_members_languages_most_named_first() -> None:
    members = [
        {"kind": "tfidf_lr", "recipe": "minimal", "lang": "en"},
        {"kind": "tfidf_lr", "recipe": "minimal", "lang": "fr"},
        {"kind": "tfidf_nb", "recipe": "minimal", "lang": "fr"},
    ]
    vote = build_model("soft_vote", {"members": members}).fit(["bien", "mal"] * 5, ["pos", "neg"] * 5)
    assert declared_languages(vote) == ["fr", "en"]


def test_an_object_without_settings_names_nothing() -> None:
    assert declared_languages(object()) == []
