"""Two ``nlpops tune`` processes share one Optuna study through the real PostgreSQL server.

The study lives in a schema of its own (``search_path`` in the URL), dropped afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import optuna
import pandas as pd
import pytest

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]
CFG = """
name: shared
registered_model: shared
data: {{path: {data}, format: csv}}
split: {{seed: 1, val_size: 0.2, test_size: 0.2}}
models:
  lr: {{kind: tfidf_lr, char_ngram_range: null, max_iter: 200}}
search:
  lr:
    C: {{type: float, low: 0.1, high: 10, log: true}}
"""


def test_two_processes_share_one_study(tmp_path: Path, pg_schema_url: str) -> None:
    storage_url = pg_schema_url
    data = tmp_path / "small.csv"
    pd.read_csv(ROOT / "data/sample/sentiment140_sample.csv").sample(600, random_state=0).to_csv(
        data, index=False
    )
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(CFG.format(data=data))
    study = f"shared-{uuid.uuid4().hex[:8]}"
    procs = []
    for worker in ("a", "b"):  # each process has its own MLflow store; the study is what they share
        env = os.environ | {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / worker}.db"}
        cmd = [sys.executable, "-m", "nlpops", "tune", str(cfg), "--model", "lr", "--trials", "3"]
        cmd += ["--storage", storage_url, "--study-name", study]
        procs.append(
            subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        )
    outputs = [p.communicate(timeout=240)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    loaded = optuna.load_study(study_name=study, storage=storage_url)
    complete = [t for t in loaded.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == 6
    assert sorted(t.number for t in complete) == list(range(6))
    # Each process saw the whole study when it finished: the last one reports all 6 trials.
    assert any("(6 trials in the study)" in out for out in outputs), outputs
