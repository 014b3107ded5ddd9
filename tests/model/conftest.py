"""The demo model: tfidf_lr trained on the shipped sample, as `make demo` trains it."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlpops.models import TextClassifier, build_model

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "sentiment140_sample.csv"


@pytest.fixture(scope="session")
def demo_model() -> TextClassifier:
    """tfidf_lr fitted on the shipped 20k-tweet sample (about 10 s)."""
    from nlpops.data import load_dataset

    df = load_dataset(SAMPLE, fmt="csv")
    return build_model("tfidf_lr", {}).fit(df["text"].tolist(), df["label"].tolist())
