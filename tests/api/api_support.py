"""Support for the API tests: a tiny real classifier (TF-IDF + logistic regression), fakes, helpers.

It lives in its own module (not conftest) so a server subprocess can import it when loading a
saved folder: put this folder on ``PYTHONPATH``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

from nlpops.models.base import TextClassifier

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

POSITIVE = ["I love this", "great movie", "what a wonderful day", "so happy and great", "love it, awesome"]
NEGATIVE = ["I hate this", "terrible movie", "what an awful day", "so sad and bad", "hate it, horrible"]


class TinyTfidfLR(TextClassifier):
    """TF-IDF words into a logistic regression."""

    def __init__(self, C: float = 10.0):
        self.C = C

    def _fit(self, texts: list[str], y: np.ndarray) -> None:
        self.pipe_: Pipeline = make_pipeline(TfidfVectorizer(), LogisticRegression(C=self.C))
        self.pipe_.fit(texts, y)

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.pipe_.predict_proba(texts))


def fit_tiny(C: float = 10.0) -> TinyTfidfLR:
    """A fitted tiny model with classes ``["neg", "pos"]``."""
    model = TinyTfidfLR(C=C)
    model.fit(POSITIVE + NEGATIVE, ["pos"] * len(POSITIVE) + ["neg"] * len(NEGATIVE))
    return model


API_KEY = "test-key-0123456789"
ADMIN = {"X-API-Key": API_KEY}
DOWN_URL = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"  # nothing listens on port 1


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


class RecordingChannel:
    """An alert channel that remembers what it was sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, subject: str, message: str) -> None:
        self.sent.append((subject, message))


def predict_one(client: TestClient, text: str = "I love this movie") -> str:
    """POST one text and return its prediction_id."""
    response = client.post("/v1/predict", json={"text": text})
    assert response.status_code == 200, response.text
    return str(response.json()["predictions"][0]["prediction_id"])
