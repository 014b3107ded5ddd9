"""The behavioural tests of ``test_behaviour.py``, run again on a BiLSTM trained on the shipped sample.

The test functions are imported so that their cases are shared; the module-level ``demo_model``
fixture below overrides the conftest one for this module only, so those tests see the BiLSTM.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")

from test_behaviour import (  # noqa: F401  (collected here again, with the fixture below)
    test_directional_negation_and_bad_news_lower_positivity,
    test_invariance_names_keep_the_label,
    test_invariance_urls_and_mentions_do_not_matter_at_all,
    test_minimum_functionality_obvious_tweets,
)

from nlpops.models import TextClassifier, build_model

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "sentiment140_sample.csv"
# Small and quick (about 15 s on one core); the benchmark uses the defaults on the 110k subset.
PARAMS = {
    "embeddings": "word2vec",
    "embedding_dim": 64,
    "hidden_size": 64,
    "max_epochs": 3,
    "n_jobs": 1,  # a second torch process on the same cores makes OpenMP threads spin
    "verbose": False,
}


@pytest.fixture(scope="module")
def demo_model() -> TextClassifier:
    """A word2vec BiLSTM fitted on the shipped 20k-tweet sample."""
    from nlpops.data import load_dataset

    df = load_dataset(SAMPLE, fmt="csv")
    return build_model("bilstm", PARAMS).fit(df["text"].tolist(), df["label"].tolist())


def test_the_model_under_test_is_the_bilstm(demo_model: TextClassifier) -> None:
    assert type(demo_model).__name__ == "BiLSTMClassifier"
    assert demo_model.history_[-1]["val_accuracy"] > 0.7
