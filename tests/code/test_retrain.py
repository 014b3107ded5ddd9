"""Feedback → export → retrain → promotion (or not), the reference profile through MLflow, and the
``nlpops drift`` / ``feedback export`` / ``retrain`` commands, on the shipped sample."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from typer.testing import CliRunner

from nlpops.cli import app
from nlpops.config import load_config
from nlpops.drift import PROFILE_FILE, Profile
from nlpops.retrain import export_feedback, feedback_splits
from nlpops.serve.db import Feedback, Prediction, Store, utcnow
from nlpops.tracking import load_estimator
from nlpops.train import run_training

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "configs" / "demo.yaml"
SAMPLE = ROOT / "data" / "sample" / "sentiment140_sample.csv"
runner = CliRunner()


def feedback_db(path: Path, rows: pd.DataFrame, flip: bool = False) -> str:
    """A service store whose predictions are ``rows`` (predicted wrong), each with a verdict giving
    the row's label (or the other one when ``flip``)."""
    url = f"sqlite:///{path}"
    store = Store(url)
    assert store.check() is None
    other = {"positive": "negative", "negative": "positive"}
    with store.session_factory() as session:
        for i, (text, label) in enumerate(zip(rows["text"], rows["label"], strict=True)):
            # fixed ids: the held-out share of the feedback is drawn by id hash, so random ids would make
            # the challenger's training set, hence the 70-tweet test comparison, differ from run to run
            pid = f"00000000-0000-4000-8000-{i:012d}"
            given = other[label] if flip else label
            session.add(
                Prediction(
                    id=pid, created_at=utcnow(), text=text, text_sha256="0" * 64, label=other[given],
                    probabilities={"negative": 0.5, "positive": 0.5}, model_name="m", latency_ms=1.0,
                )
            )  # fmt: skip
            session.flush()
            session.add(Feedback(prediction_id=pid, correct=False, label=None, source="review"))
        session.commit()
    store.close()
    return url


SHUFFLED = pd.read_csv(SAMPLE).dropna(subset=["text", "label"]).sample(frac=1.0, random_state=0)


def config(tmp_path: Path, rows: int) -> list[str]:
    """``--set`` overrides reading ``rows`` shuffled sample tweets (the sample is sorted by label)."""
    path = tmp_path / f"train-{rows}.csv"
    SHUFFLED.head(rows).to_csv(path, index=False)
    return [f"data.path={path}"]


@pytest.fixture
def outside() -> pd.DataFrame:
    """Sample tweets past the rows the configs below read (never in their splits)."""
    return SHUFFLED.iloc[8000:11000][["text", "label"]].astype(str)


def test_the_reference_profile_round_trips_through_mlflow(mlflow_store: str, tmp_path: Path) -> None:
    report = run_training(load_config(CONFIG, config(tmp_path, 2000)), ["tfidf_lr"])
    loaded = load_estimator("models:/demo@champion")
    assert loaded.folder is not None
    served = Profile.load(loaded.folder)
    logged_path = mlflow.artifacts.download_artifacts(run_id=report.best.run_id, artifact_path=PROFILE_FILE)
    logged = Profile.from_json(json.loads(Path(logged_path).read_text()))
    assert served.to_json() == logged.to_json()
    assert served.n == len(report.splits.val) and served.classes == ["negative", "positive"]
    assert sum(served.features["length"].counts) == served.n and len(served.vocabulary) > 100


def test_retrain_promotes_a_better_challenger_and_keeps_the_champion_otherwise(
    mlflow_store: str, tmp_path: Path, outside: pd.DataFrame
) -> None:
    overrides = config(tmp_path, 700)
    cfg = load_config(CONFIG, overrides)  # a weak champion: ~560 training tweets
    run_training(cfg, ["tfidf_lr"])
    helpful = feedback_db(tmp_path / "good.db", outside)  # 3,000 correctly labelled tweets
    result = runner.invoke(app, ["retrain", str(CONFIG), "--set", overrides[0], "--models", "tfidf_lr",
                                 "--feedback-db", helpful, "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    better = json.loads(result.stdout.strip().splitlines()[-1])
    assert better["promoted"] is True
    assert better["challenger"]["test_accuracy"] > better["champion"]["test_accuracy"]
    counts = better["feedback"]
    assert counts["verdicts"] == 3000 and counts["held_out"] > 0
    assert counts["added_to_training"] + counts["held_out"] + counts["in_test_or_validation"] == 3000
    assert "feedback_accuracy" in better["challenger"]
    promoted = load_estimator("models:/demo@champion")
    assert promoted.version == better["challenger"]["version"]
    assert f"{counts['added_to_training']:,} of them from feedback" in (promoted.trained_on or "")

    poisoned = feedback_db(tmp_path / "bad.db", outside, flip=True)  # every label wrong
    result = runner.invoke(app, ["retrain", str(CONFIG), "--set", overrides[0], "--models", "tfidf_lr",
                                 "--feedback-db", poisoned, "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    worse = json.loads(result.stdout.strip().splitlines()[-1])
    assert worse["promoted"] is False
    assert worse["challenger"]["test_accuracy"] < worse["champion"]["test_accuracy"]
    assert load_estimator("models:/demo@champion").version == better["challenger"]["version"]


def test_feedback_on_test_texts_never_trains(
    mlflow_store: str, tmp_path: Path, outside: pd.DataFrame
) -> None:
    from nlpops.train import prepare_data

    cfg = load_config(CONFIG, config(tmp_path, 700))
    test_rows = prepare_data(cfg).test.head(5)[["text", "label"]]
    url = feedback_db(tmp_path / "fb.db", pd.concat([test_rows, outside.head(20)]))
    splits, held_out, counts = feedback_splits(cfg, export_feedback(url))
    assert counts["in_test_or_validation"] == 5 and counts["added_to_training"] + counts["held_out"] == 20
    assert not set(test_rows["text"]) & (set(splits.train["text"]) | set(held_out["text"]))


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_feedback_export_writes_labelled_rows(tmp_path: Path, outside: pd.DataFrame, suffix: str) -> None:
    url = feedback_db(tmp_path / "fb.db", outside.head(10))
    out = tmp_path / f"feedback{suffix}"
    result = runner.invoke(app, ["feedback", "export", "--database-url", url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    assert list(frame["label"]) == list(outside.head(10)["label"])  # the other class of a wrong binary guess
    assert {"text", "label", "prediction_id", "model_version", "created_at"} <= set(frame.columns)
    bad = runner.invoke(app, ["feedback", "export", "--database-url", url, "--out", str(tmp_path / "f.xlsx")])
    assert bad.exit_code == 1 and ".csv or .parquet" in bad.output


def test_drift_cli_reports_json_and_html(mlflow_store: str, tmp_path: Path) -> None:
    run_training(load_config(CONFIG, config(tmp_path, 2000)), ["tfidf_lr"])
    french = tmp_path / "fr.csv"
    pd.DataFrame({"text": ["le vol est en retard et je ne suis pas content du tout"] * 120}).to_csv(french)
    out = tmp_path / "report"
    result = runner.invoke(
        app,
        ["drift", "--model", "models:/demo@champion", "--current", str(french), "--json", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["drift_detected"] is True
    assert {f["feature"] for f in report["features"] if f["drifted"]} >= {"language", "oov_rate"}
    assert (out / "report.html").is_file() and (out / "language.png").is_file()
    same = runner.invoke(
        app, ["drift", "--model", "models:/demo@champion", "--current", str(SAMPLE), "--json"]
    )
    assert json.loads(same.stdout.strip().splitlines()[-1])["drift_detected"] is False
