"""The real server process on PostgreSQL: migrate, predict, feedback, survive dropped connections.

Runs ``python -m uvicorn nlpops.serve.app:create_app --factory`` with the model given as a local
folder (``NLPOPS_MODEL_URI``), in a schema of its own that is dropped afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select, text

from nlpops.serve.db import Feedback, Prediction
from server_support import free_port, wait_ready

pytestmark = pytest.mark.postgres


@pytest.fixture
def server(
    pg_schema: tuple[str, Engine], pg_schema_url: str, model_dir: Path, tmp_path: Path
) -> Iterator[str]:
    """The API in a subprocess, ready; yields its base URL."""
    schema, _ = pg_schema
    port = free_port()
    env = {
        **os.environ,
        "NLPOPS_MODEL_URI": str(model_dir),
        "NLPOPS_DATABASE_URL": f"{pg_schema_url}&application_name={schema}",
        "NLPOPS_RELOAD_INTERVAL_S": "0",
        "NLPOPS_MODEL_CACHE_DIR": str(tmp_path / "cache"),
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]),
    }
    cmd = [sys.executable, "-m", "uvicorn", "nlpops.serve.app:create_app", "--factory", "--port", str(port)]
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc, tmp_path / "server.log")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()


def test_real_server_on_postgres(server: str, pg_schema: tuple[str, Engine]) -> None:
    schema, admin = pg_schema
    with httpx.Client(base_url=server, timeout=10) as client:
        pred = client.post("/v1/predict", json={"text": "I love this movie"}).json()["predictions"][0]
        assert pred["label"] == "pos"
        created = client.post("/v1/feedback", json={"prediction_id": pred["prediction_id"], "correct": False})
        assert created.status_code == 201
        # drop the server's connections: pool_pre_ping must reconnect without a restart
        with admin.begin() as conn:
            killed = conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :n"),
                {"n": schema},
            ).all()
        assert killed, "the server held no pooled connection to drop"
        again = client.post("/v1/feedback", json={"prediction_id": pred["prediction_id"], "correct": True})
        assert again.status_code == 201
    with admin.connect() as conn:
        conn.execute(text(f'SET search_path TO "{schema}"'))
        rows = conn.execute(
            select(Feedback.correct, Prediction.text, Prediction.label)
            .join(Prediction, Feedback.prediction_id == Prediction.id)
            .where(Prediction.id == pred["prediction_id"])
            .order_by(Feedback.created_at)
        ).all()
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert [tuple(r) for r in rows] == [(True, "I love this movie", "pos")]  # one verdict: the last
    assert version == "0002"


def test_two_workers_share_postgres(
    pg_schema: tuple[str, Engine], pg_schema_url: str, model_dir: Path, tmp_path: Path
) -> None:
    """``nlpops serve --workers 2``: every prediction is stored once and its feedback finds it, whichever
    worker answers (a row may still sit in the other worker's write-behind queue: feedback waits for it)."""
    schema, admin = pg_schema
    port = free_port()
    env = {
        **os.environ,
        "NLPOPS_MODEL_CACHE_DIR": str(tmp_path / "cache"),
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]),
    }
    url = pg_schema_url
    cmd = [sys.executable, "-m", "nlpops", "serve", "--model", str(model_dir), "--port", str(port)]
    cmd += ["--workers", "2", "--database-url", url, "--reload-interval", "0"]
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_ready(base, proc, log_path)
            statuses = []
            for i in range(30):  # a new connection per request: the kernel spreads them over the workers
                pred = httpx.post(f"{base}/v1/predict", json={"text": f"I love this {i}"}).json()
                fb = {"prediction_id": pred["predictions"][0]["prediction_id"], "correct": True}
                statuses.append(httpx.post(f"{base}/v1/feedback", json=fb).status_code)
            assert statuses == [201] * 30, log_path.read_text()
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    with admin.connect() as conn:
        assert conn.execute(text(f'SELECT count(*) FROM "{schema}".predictions')).scalar() == 30
    assert "with 2 worker(s)" in log_path.read_text()
