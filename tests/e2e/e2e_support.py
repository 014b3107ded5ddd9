"""Support for the browser tests: a small real model, a real server process, screenshots.

Kept out of conftest so the tests can import it (the folder is on ``sys.path`` under pytest).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from nlpops.models.classical import TfidfLogReg
from server_support import free_port, wait_ready

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "sentiment140_sample.csv"
SCREENSHOTS = ROOT / "reports" / "e2e"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]
MAX_BATCH = 4  # small, so a 9-row CSV needs three requests and the chunking is exercised
SAVED: list[Path] = []  # screenshots taken in this session, listed at the end of the run


def train_small_model(folder: Path) -> Path:
    """Word TF-IDF + logistic regression on the shipped Sentiment140 sample (about a second)."""
    data = pd.read_csv(SAMPLE).dropna()
    data = data[data["label"].isin(["negative", "positive"])]
    model = TfidfLogReg(char_ngram_range=None)  # words only: fast to fit and to explain
    model.fit(data["text"].tolist(), data["label"].tolist())
    return model.save(folder)


@dataclass
class Server:
    """A running API process."""

    url: str
    database_url: str


@contextmanager
def run_server(model_dir: Path, workdir: Path) -> Iterator[Server]:
    """``uvicorn nlpops.serve.app:create_app`` in a subprocess on SQLite, as ``nlpops serve`` runs it."""
    port = free_port()
    database_url = f"sqlite:///{workdir / 'serve.db'}"
    env = {
        **os.environ,
        "NLPOPS_MODEL_URI": str(model_dir),
        "NLPOPS_DATABASE_URL": database_url,
        "NLPOPS_RELOAD_INTERVAL_S": "0",
        "NLPOPS_MODEL_CACHE_DIR": str(workdir / "cache"),
        "NLPOPS_MAX_BATCH": str(MAX_BATCH),
        "NLPOPS_EXPLAIN_SAMPLES": "200",
        "NLPOPS_SENTENCE_MODEL": "blank:en",  # rule-based sentence splitting: nothing to load
    }
    cmd = [sys.executable, "-m", "uvicorn", "nlpops.serve.app:create_app", "--factory"]
    cmd += ["--port", str(port), "--no-access-log"]
    log_path = workdir / "server.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(cmd, env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_ready(url, proc, log_path)
            yield Server(url, database_url)
        finally:
            proc.terminate()
            proc.wait(timeout=15)
