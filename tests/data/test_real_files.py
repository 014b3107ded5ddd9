"""The real datasets load with their documented row counts and label sets, and split without leakage."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from nlpops.data import check_leakage, load_dataset, split_dataset, validate_dataset

DATA_DIR = Path(os.environ.get("NLPOPS_DATA_DIR") or Path(__file__).parents[2] / "../shared/data").resolve()
pytestmark = pytest.mark.skipif(not DATA_DIR.is_dir(), reason=f"real data folder {DATA_DIR} is absent")

SUBSET_110K = "sentiment140_train_subset_110k.csv.gz"


@pytest.fixture(scope="module")
def subset_110k() -> Iterator[pd.DataFrame]:
    yield load_dataset(DATA_DIR / SUBSET_110K)


def test_sentiment140_raw_20k() -> None:
    df = load_dataset(DATA_DIR / "sentiment140_train_head_tail_20k_raw.csv.gz")
    assert df.attrs["format"] == "sentiment140"
    assert len(df) == 20_000
    assert df["label"].value_counts().to_dict() == {"positive": 10_001, "negative": 9_999}
    assert df["timestamp"].notna().all() and str(df["timestamp"].dt.tz) == "UTC"
    assert df["timestamp"].min() >= pd.Timestamp("2009-04-06", tz="UTC")


def test_sentiment140_subset_110k(subset_110k: pd.DataFrame) -> None:
    assert subset_110k.attrs["format"] == "sentiment140"
    assert len(subset_110k) == 109_366
    assert subset_110k["label"].value_counts().to_dict() == {"negative": 54_686, "positive": 54_680}
    assert (subset_110k["text"].str.strip() != "").all()
    # 20,000 head/tail rows + 9,366 random10k rows carry metadata; 2 random10k rows are a stray
    # "0,1,2,3,4,5" header of the source, so their date ("2") is NaT
    assert subset_110k["id"].notna().sum() == 29_366
    assert subset_110k["timestamp"].notna().sum() == 29_364


def test_airline() -> None:
    df = load_dataset(DATA_DIR / "twitter_us_airline_sentiment_tweets.csv.gz")
    assert df.attrs["format"] == "airline"
    assert len(df) == 14_640
    assert df["label"].value_counts().to_dict() == {"negative": 9_178, "neutral": 3_099, "positive": 2_363}
    assert df["id"].str.fullmatch(r"\d{18}").all() and df["id"].nunique() == 14_485
    assert df["group"].value_counts()["United"] == 3_822
    assert df["timestamp"].notna().all() and str(df["timestamp"].dt.tz) == "UTC"


def test_dissidentia_labels_as_generic_csv() -> None:
    df = load_dataset(DATA_DIR / "dissidentia_labels_v4.csv.gz", columns={"text": "text", "label": "label"})
    assert len(df) == 915
    assert df["label"].value_counts().to_dict() == {"non dissident": 671, "dissident": 212, "inclassable": 32}


def test_doccano_ner_spans() -> None:
    df = load_dataset(DATA_DIR / "ner_jobs_doccano_annotated.jsonl.gz")
    assert df.attrs["format"] == "doccano"
    assert len(df) == 293 and df["text"].nunique() == 65
    tags = {tag for spans in df["spans"] for _, _, tag in spans}
    assert tags == {"PROG_LANG", "FRAMEWORKS", "DB", "PLATFORM"}
    assert all(
        0 <= s < e <= len(t) for t, spans in zip(df["text"], df["spans"], strict=True) for s, e, _ in spans
    )


def test_split_110k_has_no_leakage(subset_110k: pd.DataFrame) -> None:
    result = split_dataset(subset_110k, seed=42)
    check_leakage(result.train, result.val, result.test)
    assert result.stratified and result.dropped["conflict_texts"] > 0
    sizes = result.sizes()
    assert (
        sum(sizes.values())
        == len(subset_110k) - result.dropped["duplicates"] - result.dropped["conflict_rows"]
    )
    assert sizes["val"] == pytest.approx(0.1 * sum(sizes.values()), abs=2)


def test_validate_110k_runs() -> None:
    report = validate_dataset(DATA_DIR / SUBSET_110K)
    assert report.ok and report.rows == 109_366
    assert report.class_balance == {"negative": 54_686, "positive": 54_680}
    assert report.conflicting_texts > 0 and report.warnings
