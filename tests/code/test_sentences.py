"""Sentence splitting of long French answers (spaCy senter, or a blank rule-based pipeline)."""

from __future__ import annotations

import pytest

from nlpops.text.sentences import sentence_pipeline, split_many, split_sentences

ANSWER = (
    "Les élus sont des incapables !!! Scandaleux. il faut réduire le nombre de députés et de sénateurs. Voilà"
)


def test_senter_splits_an_answer_even_without_capitals() -> None:
    assert split_sentences(ANSWER) == [
        "Les élus sont des incapables !!!",
        "Scandaleux.",
        "il faut réduire le nombre de députés et de sénateurs.",
        "Voilà",
    ]


def test_blank_sentencizer_needs_no_model_and_keeps_the_text() -> None:
    sentences = split_sentences("Bonjour. L'État est trop lourd ! Que faire ?", "blank:fr")
    assert sentences == ["Bonjour.", "L'État est trop lourd !", "Que faire ?"]


def test_fragments_without_letters_join_the_previous_sentence() -> None:
    sentences = split_sentences("Honteux !!! ! Vraiment.", "blank:fr")
    assert all(any(c.isalpha() for c in s) for s in sentences)
    assert "".join(sentences).replace(" ", "") == "Honteux!!!!Vraiment."


@pytest.mark.parametrize("text", ["", "   \n "])
def test_empty_texts_have_no_sentences(text: str) -> None:
    assert split_sentences(text, "blank:fr") == []


def test_split_many_keeps_one_list_per_text_in_order() -> None:
    texts = ["Un. Deux.", "", "Trois"]
    assert split_many(texts, "blank:fr") == [["Un.", "Deux."], [], ["Trois"]]
    assert split_many(texts, "blank:fr") == [split_sentences(t, "blank:fr") for t in texts]


def test_pipelines_are_cached_and_missing_models_say_what_to_do() -> None:
    assert sentence_pipeline("blank:fr") is sentence_pipeline("blank:fr")
    with pytest.raises(OSError, match=r"xx_missing_model.*blank:fr"):
        sentence_pipeline("xx_missing_model")
