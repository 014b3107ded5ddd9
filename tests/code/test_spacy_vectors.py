"""spacy_vectors: averaged fr_core_news_md (or gensim) word vectors + logistic regression."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from nlpops.models import build_model, load_model_dir
from nlpops.models.spacy_vectors import SpacyVectorsLogReg

ANGRY = ["scandaleux", "honteux", "inadmissible", "lamentable", "pourri", "minable"]
CALM = ["simple", "efficace", "utile", "pratique", "correct", "raisonnable"]
TEMPLATES = ["l'administration est {}", "ce service public est {}", "les démarches sont {}", "{}"]


def data() -> tuple[list[str], list[str]]:
    texts = [t.format(w) for w in ANGRY + CALM for t in TEMPLATES]
    labels = ["dissident" if w in ANGRY else "non dissident" for w in ANGRY + CALM for _ in TEMPLATES]
    return texts, labels


@pytest.fixture(scope="module")
def fitted() -> SpacyVectorsLogReg:
    model = build_model("spacy_vectors", {"C": 1.0})
    assert isinstance(model, SpacyVectorsLogReg)
    return model.fit(*data())


def test_learns_and_generalises_through_the_vectors(fitted: SpacyVectorsLogReg) -> None:
    texts, labels = data()
    assert (fitted.predict(texts) == np.asarray(labels)).mean() >= 0.9
    unseen = fitted.predict_proba(
        ["la mairie est scandaleuse et honteuse", "la mairie est efficace et utile"]
    )
    pos = list(fitted.classes_).index("dissident")
    assert unseen[0, pos] > unseen[1, pos]


def test_words_drop_stop_words_and_punctuation_but_keep_negations(fitted: SpacyVectorsLogReg) -> None:
    assert fitted.words("L'État ne fait jamais rien, 100 % honteux !") == [
        "état",
        "ne",
        "jamais",
        "rien",
        "honteux",
    ]


def test_save_load_roundtrip_keeps_the_name_not_the_pipeline(
    fitted: SpacyVectorsLogReg, tmp_path: Path
) -> None:
    folder = fitted.save(tmp_path / "m")
    assert sum(f.stat().st_size for f in folder.iterdir()) < 200_000  # no spaCy vectors inside
    loaded = load_model_dir(folder)
    texts = ["les élus sont minables", "service correct"]
    np.testing.assert_allclose(loaded.predict_proba(texts), fitted.predict_proba(texts))
    assert loaded.get_params()["spacy_model"] == "fr_core_news_md"
    pickled = pickle.dumps(fitted)
    assert b"spacy." not in pickled and len(pickled) < 200_000  # no spaCy object is pickled


def test_vectors_from_a_gensim_file_for_domain_vectors(tmp_path: Path) -> None:
    from gensim.models import Word2Vec

    texts, labels = data()
    sentences = [t.replace("'", " ").split() for t in texts] * 5
    kv = Word2Vec(sentences, vector_size=16, min_count=1, seed=0, workers=1, epochs=20).wv
    path = tmp_path / "domain.vec"
    kv.save_word2vec_format(str(path))
    model = build_model("spacy_vectors", {"vectors_path": str(path), "C": 1.0}).fit(texts, labels)
    assert model.embed(["honteux"]).shape == (1, 16)
    assert (model.predict(texts) == np.asarray(labels)).mean() >= 0.75


def test_bad_parameters_are_named() -> None:
    with pytest.raises(ValueError, match="weighting must be"):
        build_model("spacy_vectors", {"weighting": "tfidf"}).fit(*data())
    with pytest.raises(OSError, match=r"xx_nope_md.*not installed"):
        build_model("spacy_vectors", {"spacy_model": "xx_nope_md"}).fit(*data())
