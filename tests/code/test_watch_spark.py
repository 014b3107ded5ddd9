"""The Spark engine of the watch gives the local engine's predictions and windows (needs pyspark + Java)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from nlpops.models import build_model
from nlpops.tracking import log_model, setup_tracking
from nlpops.watch import SpikeDetector, WatchSpec, aggregate, run_watch
from nlpops.watch.pipeline import score_local

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("pyspark") is None, reason="pyspark not installed (nlpops[spark])"
    ),
    pytest.mark.skipif(shutil.which("java") is None, reason="no Java runtime for Spark"),
]


def test_spark_predictions_equal_local(mlflow_store: str, tmp_path: Path, tiny_data) -> None:
    texts, labels = tiny_data
    model = build_model("tfidf_lr", {"char_ngram_range": None, "min_df": 1}).fit(texts, labels)
    setup_tracking("watch")
    with mlflow.start_run():
        uri = log_model(model, model.save(tmp_path / "model"), texts[:3])
    rng = np.random.default_rng(0)
    posts = pd.DataFrame(
        {
            "when": [f"2024-03-01 {h:02d}:{m:02d}:00 +0100" for h in range(12) for m in (5, 25, 45)],
            "body": [f"{t} #{i}" for i, t in enumerate(rng.choice(texts, size=36))],
            "who": ["a", "b", "c"] * 12,
        }
    )
    burst = pd.DataFrame(  # a planted burst of negatives for group a at 10:00 local time
        {
            "when": "2024-03-01 10:30:00 +0100",
            "body": [f"i hate it on monday #b{i}" for i in range(12)],
            "who": "a",
        }
    )
    untimed = pd.DataFrame({"when": ["not a time", "soon"], "body": ["i hate it", "i love it"], "who": "b"})
    posts = pd.concat([posts, burst, untimed], ignore_index=True)  # both engines leave out the last two
    path = tmp_path / "posts.parquet"
    posts.to_parquet(path)
    spec = WatchSpec("when", "body", by="who")

    local = score_local(uri, path, spec).sort_values("text").reset_index(drop=True)
    detector = SpikeDetector(baseline_windows=3, threshold=2.0, min_volume=5, min_history=2)
    result = run_watch(path, uri, spec, tmp_path / "out", "2h", detector, engine="spark", master="local[1]")
    expected = run_watch(path, uri, spec, tmp_path / "local", "2h", detector)
    spark = pd.read_parquet(tmp_path / "out" / "scored.parquet").sort_values("text").reset_index(drop=True)

    assert spark["label"].tolist() == local["label"].tolist()
    np.testing.assert_allclose(spark["p_negative"], local["p_negative"], rtol=1e-9)
    assert (pd.to_datetime(spark["time"], utc=True) == local["time"]).all()
    expected_windows = aggregate(local.assign(is_negative=local["label"] == "negative"), "2h")
    pd.testing.assert_frame_equal(result.windows, expected_windows, check_dtype=False)
    assert result.windows["volume"].sum() == 48 and set(result.windows["group"]) == {"a", "b", "c"}
    assert (result.untimed.count, result.untimed.total, result.untimed.example) == (2, 50, "not a time")
    assert result.untimed == expected.untimed
    assert [(s.window, s.group) for s in result.spikes] == [(pd.Timestamp("2024-03-01 08:00", tz="UTC"), "a")]
    assert [(s.top_terms, s.examples) for s in result.spikes] == [
        (s.top_terms, s.examples) for s in expected.spikes
    ]
