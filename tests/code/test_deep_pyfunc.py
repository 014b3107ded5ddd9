"""A deep model logged to MLflow: the pyfunc loads and predicts in a fresh process; curves are logged."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch")

import mlflow
from mlflow import MlflowClient

from nlpops.models import build_model
from nlpops.tracking import log_model, setup_tracking
from nlpops.train import log_history

PARAMS = {
    "recipe": "minimal",
    "min_count": 1,
    "embedding_dim": 16,
    "hidden_size": 16,
    "batch_size": 16,
    "max_epochs": 4,
    "learning_rate": 0.02,
    "validation_fraction": 0.25,
    "n_jobs": 1,
    "verbose": False,
}
# Runs in a new interpreter: only the MLflow URI links it to the test's process.
PREDICT = """
import json, sys
import mlflow, pandas as pd
model = mlflow.pyfunc.load_model(sys.argv[1])
frame = model.predict(pd.DataFrame({"text": json.loads(sys.argv[2])}))
print(frame.to_json(orient="split"))
"""


def test_pyfunc_predicts_in_a_fresh_process(
    mlflow_store: str, tmp_path: Path, tiny_data: tuple[list[str], list[str]]
) -> None:
    texts, labels = tiny_data
    model = build_model("bilstm", PARAMS).fit(texts, labels)
    setup_tracking("deep")
    with mlflow.start_run():
        uri = log_model(model, model.save(tmp_path / "model"), texts[:3])
    queries = ["i love it", "awful flight", "", "never seen these words"]
    done = subprocess.run(
        [sys.executable, "-c", PREDICT, uri, json.dumps(queries)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    frame = pd.read_json(io.StringIO(done.stdout.strip().splitlines()[-1]), orient="split")
    assert list(frame.columns) == ["label", "proba_negative", "proba_positive"]
    np.testing.assert_allclose(
        frame[["proba_negative", "proba_positive"]].to_numpy(), model.predict_proba(queries), rtol=1e-6
    )
    assert list(frame["label"]) == list(model.predict(queries))


def test_history_is_logged_as_step_metrics(mlflow_store: str, tiny_data: tuple[list[str], list[str]]) -> None:
    model = build_model("embed_bag", PARAMS).fit(*tiny_data)
    setup_tracking("deep")
    with mlflow.start_run() as run:
        log_history(model)
    client = MlflowClient()
    for name in ("epoch_train_loss", "epoch_val_loss", "epoch_val_accuracy"):
        steps = client.get_metric_history(run.info.run_id, name)
        assert [m.step for m in sorted(steps, key=lambda m: m.step)] == [r["epoch"] for r in model.history_]
    losses = {m.step: m.value for m in client.get_metric_history(run.info.run_id, "epoch_val_loss")}
    assert losses[1] == pytest.approx(model.history_[0]["val_loss"])
