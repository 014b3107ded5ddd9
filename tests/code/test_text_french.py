"""French preprocessing: elisions, accents, stop words that keep negations, simplemma lemmas."""

from __future__ import annotations

import unicodedata

import pytest

from nlpops.text import build_preprocessor, build_step
from nlpops.text.french import strip_accents
from nlpops.text.lexical import stop_words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("l'État", "le État"),
        ("l’administration d’État", "le administration de État"),  # curly apostrophes
        ("qu'il n'y a", "que il ne y a"),
        ("jusqu'au bout, lorsqu'on", "jusque au bout, lorsque on"),
        ("aujourd'hui quelqu'un", "aujourd'hui quelqu'un"),  # not elisions: left whole
        ("L'ÉTAT", "Le ÉTAT"),
    ],
)
def test_elisions_become_whole_words(text: str, expected: str) -> None:
    assert build_step("elision")[1].apply(text) == expected


def test_accents_fold_consistently_whatever_the_encoding() -> None:
    composed = "élus déçus à Noël, ça"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    assert strip_accents(composed) == strip_accents(decomposed) == "elus decus a Noel, ca"
    keep = build_step({"name": "accents", "mode": "keep"})[1]
    assert keep.apply(decomposed) == composed
    with pytest.raises(ValueError, match="mode 'bogus'"):
        build_step({"name": "accents", "mode": "bogus"})[1].transform(["x"])


def test_french_stop_words_keep_negations() -> None:
    stops = stop_words("fr")
    for negation in ("ne", "n'", "n’", "pas", "plus", "jamais", "rien", "personne", "aucun", "ni", "sans"):
        assert negation not in stops
    for word in ("le", "la", "de", "que", "et", "est", "une"):
        assert word in stops


def test_fr_lemma_recipe_on_a_citizen_sentence() -> None:
    text = "L'État n'est qu'une machine à gaspiller l'argent d’impôts, c'est scandaleux !"
    out = build_preprocessor("fr_lemma", lang="fr").transform([text])[0]
    assert out == "etat ne machine gaspiller argent impot , scandaleux !"


def test_negation_survives_in_french_recipes() -> None:
    text = ["L'administration n'écoute jamais personne"]
    assert (
        build_preprocessor("fr_lemma", lang="fr").transform(text)[0]
        == "administration ne ecoute jamais personne"
    )
    assert build_preprocessor("fr_stem", lang="fr").transform(text)[0] == "administr ne ecout jam person"
    # the English-style "lemma" recipe loses the elided negation: simplemma reads "n'est" as "être"
    assert "ne" not in build_preprocessor("lemma", lang="fr").transform(["ça n'est rien"])[0].split()


@pytest.mark.parametrize(
    ("variants", "recipe"),
    [
        (["Les élus sont corrompus", "les ÉLUS sont CORROMPUS", "les élus sont corrompu"], "fr_lemma"),
        (["L'État décide", "l etat décide", "L’Etat décide"], "fr_lemma"),
        (["Des fonctionnaires incompétents", "des fonctionnaires incompetents"], "fr_stem"),
    ],
)
def test_spelling_variants_give_the_same_tokens(variants: list[str], recipe: str) -> None:
    pipe = build_preprocessor(recipe, lang="fr")
    outputs = {tuple(t for t in out.split() if t != "l") for out in pipe.transform(variants)}
    assert len(outputs) == 1, outputs


def test_simplemma_lemmas() -> None:
    out = build_preprocessor("fr_lemma", lang="fr").transform(["les députés mangeaient des impôts"])[0]
    assert out.split() == ["depute", "manger", "impot"]
