"""PostgreSQL stopped while serving: predictions still answer, feedback answers 503 with a clear
message, and everything recovers when the database is back, without restarting the API.

The database is a PRIVATE PostgreSQL cluster (``tests/pg_private.py``: ``initdb`` + ``pg_ctl`` on a
port of its own, stopped with ``-m immediate``), never the shared server.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from live_server import LiveServer
from sqlalchemy import create_engine, func, select

from nlpops.serve.db import Feedback, Prediction
from pg_private import PrivatePostgres

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def predict(client: httpx.Client, text: str) -> str:
    start = time.perf_counter()
    response = client.post("/v1/predict", json={"text": text})
    assert response.status_code == 200, response.text
    assert time.perf_counter() - start < 2.0, "a database outage must not slow predictions down"
    return str(response.json()["predictions"][0]["prediction_id"])


def count(url: str, table: type[Prediction] | type[Feedback]) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(table)) or 0)
    finally:
        engine.dispose()


def test_database_outage_and_recovery(private_pg: PrivatePostgres, model_dir: Path, tmp_path: Path) -> None:
    server = LiveServer(private_pg.url, model_dir, tmp_path).start()
    try:
        with httpx.Client(base_url=server.base, timeout=15) as client:
            before = predict(client, "I love this")
            assert (
                client.post("/v1/feedback", json={"prediction_id": before, "correct": True}).status_code
                == 201
            )

            private_pg.stop()
            during = [predict(client, f"what a wonderful day {i}") for i in range(5)]
            start = time.perf_counter()
            refused = client.post("/v1/feedback", json={"prediction_id": before, "correct": False})
            assert refused.status_code == 503
            assert refused.json() == {
                "detail": "the database is unavailable; nothing was stored, retry in a moment"
            }
            assert time.perf_counter() - start < 5.0
            ready = client.get("/ready")
            assert ready.status_code == 503 and "database unreachable" in ready.json()["reason"]
            metrics = client.get("/metrics").text
            assert "nlpops_prediction_rows_pending 5.0" in metrics
            assert "nlpops_prediction_rows_lost 0.0" in metrics

            private_pg.start()  # same API process from here on
            deadline = time.monotonic() + 20
            while client.get("/ready").status_code != 200 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert client.get("/ready").status_code == 200
            # a prediction answered during the outage was kept and written: feedback finds it
            late = client.post("/v1/feedback", json={"prediction_id": during[-1], "correct": True})
            assert late.status_code == 201, late.text
            after = predict(client, "back again")
            assert (
                client.post("/v1/feedback", json={"prediction_id": after, "correct": True}).status_code == 201
            )
            assert "nlpops_prediction_rows_pending 0.0" in client.get("/metrics").text
    finally:
        server.stop()
    assert count(private_pg.url, Prediction) == 1 + 5 + 1  # nothing answered was lost
    assert count(private_pg.url, Feedback) == 3
    assert server.proc is not None and server.proc.returncode is not None
