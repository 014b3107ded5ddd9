"""A French sentence-encoder model (e5 multilingual + logistic regression) served like any other model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from nlpops.models import build_model
from nlpops.serve.app import create_app
from nlpops.settings import Settings

OUTRAGE = [
    "C'est scandaleux, une honte",
    "Ces élus sont des voleurs, c'est honteux",
    "Quelle honte, inadmissible",
]
CALM = ["Merci pour ce service", "Il faudrait simplifier les démarches", "Je propose plus de guichets"]


@pytest.fixture(scope="module")
def e5_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    model = build_model("sentence_lr", {"checkpoint": "e5-small-multilingual", "C": 10.0, "n_jobs": 2})
    model.fit(OUTRAGE * 3 + CALM * 3, ["dissident"] * 9 + ["non dissident"] * 9)
    return model.save(tmp_path_factory.mktemp("models") / "e5")


@pytest.fixture
def e5_client(settings: Settings, e5_model_dir: Path) -> Iterator[TestClient]:
    """The API tests' settings, serving the e5 model and splitting sentences with spaCy's rules."""
    served = settings.model_copy(update={"model_uri": str(e5_model_dir), "sentence_model": "blank:fr"})
    with TestClient(create_app(served)) as client:
        yield client


def test_e5_model_predicts_per_sentence_with_weighed_words(e5_client: TestClient) -> None:
    text = "Merci pour ce service. Ces élus sont des voleurs, c'est scandaleux !"
    response = e5_client.post("/v1/predict", json={"text": text, "split_sentences": True})
    assert response.status_code == 200, response.text
    [prediction] = response.json()["predictions"]
    calm, outraged = prediction["sentences"]
    assert calm["label"] == "non dissident" and outraged["label"] == "dissident"
    assert outraged["words"], "leaving each word out gives the encoder's weighed words too"
    feedback = {"prediction_id": prediction["prediction_id"], "correct": True}
    assert e5_client.post("/v1/feedback", json=feedback).status_code in (200, 201)
