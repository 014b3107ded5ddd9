"""POST /v1/predict with ``split_sentences``: one prediction and weighed words per sentence."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from nlpops.serve.routes.predict import MAX_SENTENCES


@pytest.fixture
def blank_splitter(app: FastAPI) -> None:
    app.state.settings.sentence_model = "blank:en"  # rule-based: no spaCy model to load


@pytest.mark.usefixtures("blank_splitter")
def test_each_sentence_gets_a_label_probabilities_and_words(client: TestClient) -> None:
    text = "I love this, great movie. I hate the ending, awful and horrible!"
    response = client.post("/v1/predict", json={"text": text, "split_sentences": True})
    assert response.status_code == 200, response.text
    [pred] = response.json()["predictions"]
    first, second = pred["sentences"]
    assert first["text"] == "I love this, great movie." and first["label"] == "pos"
    assert second["text"] == "I hate the ending, awful and horrible!" and second["label"] == "neg"
    assert sum(second["probabilities"].values()) == pytest.approx(1.0)
    top = {w["word"]: w["weight"] for w in second["words"]}
    assert max(top, key=lambda w: top[w]) in {"hate", "awful", "horrible"}  # the words behind "neg"
    assert top["hate"] > 0 and "ending" not in top  # a word the model never saw weighs nothing
    assert pred["label"] in {"pos", "neg"} and "prediction_id" in pred  # the text keeps its prediction


@pytest.mark.usefixtures("blank_splitter")
def test_batches_keep_text_order_and_the_default_shape_is_unchanged(client: TestClient) -> None:
    texts = ["Awful. Horrible.", "great movie"]
    body = client.post("/v1/predict", json={"texts": texts, "split_sentences": True}).json()
    assert [len(p["sentences"]) for p in body["predictions"]] == [2, 1]
    plain = client.post("/v1/predict", json={"texts": texts}).json()
    assert all(set(p) == {"prediction_id", "label", "probabilities"} for p in plain["predictions"])
    assert "model_version" in plain  # None fields are still sent


def test_a_missing_spacy_model_is_a_clear_503(client: TestClient, app: FastAPI) -> None:
    app.state.settings.sentence_model = "xx_no_such_model"
    response = client.post("/v1/predict", json={"text": "Hello. Bye.", "split_sentences": True})
    assert response.status_code == 503 and "xx_no_such_model" in response.json()["detail"]


@pytest.mark.usefixtures("blank_splitter")
def test_too_many_sentences_are_refused(client: TestClient, app: FastAPI) -> None:
    app.state.settings.max_text_chars = 10_000
    text = " ".join(["Bad."] * (MAX_SENTENCES + 1))
    response = client.post("/v1/predict", json={"text": text, "split_sentences": True})
    assert response.status_code == 413 and str(MAX_SENTENCES) in response.json()["detail"]
