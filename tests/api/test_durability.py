"""An acknowledged write is a stored write: real ``nlpops serve`` processes, real PostgreSQL.

- ``kill -9`` under a bounded loopback load of predictions and feedback, restart: every acknowledged
  prediction id and feedback is in the database, and feedback on those ids is accepted (not 404).
- SIGTERM while a private PostgreSQL is down: the answered predictions wait in the spool, and the
  next start stores them once the database is back.
- A hung database (SIGSTOP of the private server): feedback answers 503 with ``Retry-After``
  within 2 s, ``/ready`` within 1 s, predictions go on, the pending gauge counts the waiting rows,
  and nothing is lost after SIGCONT.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path

import httpx
import pytest
from live_server import LiveServer

from pg_private import PrivatePostgres

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))
from bench_durability import Acked, load, wait_stored  # noqa: E402


def test_kill_9_under_load_loses_no_acknowledged_write(
    pg_schema_url: str, model_dir: Path, tmp_path: Path
) -> None:
    server = LiveServer(pg_schema_url, model_dir, tmp_path, cli=True).start()
    try:
        killed_at: list[int] = []

        def kill_after_300(acked: Acked) -> bool:
            if len(acked.predictions) >= 300 and not killed_at:
                killed_at.append(len(acked.predictions))
                server.kill()  # mid-load: requests in flight get no answer
            return bool(killed_at) and acked.errors >= 16  # every client saw the crash

        acked = asyncio.run(load(server.base, 60, concurrency=16, stop_when=kill_after_300))
        assert killed_at and len(acked.predictions) >= 300 and acked.feedback
        server.start()  # same spool, same database
        predictions, feedback = wait_stored(pg_schema_url, acked)
        assert set(acked.predictions) <= predictions, (
            f"{len(set(acked.predictions) - predictions)} acknowledged predictions lost"
        )
        assert set(acked.feedback) <= feedback
        with httpx.Client(base_url=server.base, timeout=10) as client:  # their ids take feedback
            for pid in acked.predictions[-20:]:
                answer = client.post("/v1/feedback", json={"prediction_id": pid, "correct": True})
                assert answer.status_code == 201, answer.text
    finally:
        server.stop()


def test_sigterm_while_the_database_is_down_keeps_every_prediction(
    private_pg: PrivatePostgres, model_dir: Path, tmp_path: Path
) -> None:
    server = LiveServer(private_pg.url, model_dir, tmp_path, cli=True).start()
    try:
        before = asyncio.run(load(server.base, 1.0, concurrency=4))
        private_pg.stop()
        during = asyncio.run(load(server.base, 1.5, concurrency=4))
        assert len(during.predictions) >= 20  # answered through the outage
        # The graceful stop, with the database still down (uvicorn exits by the signal it caught).
        assert server.terminate() in (0, -signal.SIGTERM)
        assert "are stored at the next start" in server.log.read_text()
        assert list((tmp_path / "spool").rglob("*.spool")), "the held predictions must stay on disk"
        private_pg.start()
        server.start()
        acked = Acked(predictions=before.predictions + during.predictions, feedback=before.feedback)
        predictions, feedback = wait_stored(private_pg.url, acked)
        assert set(acked.predictions) <= predictions
        assert set(before.feedback) <= feedback
        assert during.feedback == []  # no feedback was acknowledged while the database was down
    finally:
        server.stop()


def test_a_hung_database_answers_503_fast_and_loses_nothing(
    private_pg: PrivatePostgres, model_dir: Path, tmp_path: Path
) -> None:
    server = LiveServer(private_pg.url, model_dir, tmp_path, cli=True).start()
    try:
        with httpx.Client(base_url=server.base, timeout=10) as client:
            first = client.post("/v1/predict", json={"text": "fine"}).json()["predictions"][0]
            private_pg.pause()
            held = []
            for i in range(10):
                start = time.perf_counter()
                response = client.post("/v1/predict", json={"text": f"hung {i}"})
                assert response.status_code == 200 and time.perf_counter() - start < 1.0
                held.append(response.json()["predictions"][0]["prediction_id"])
            for _ in range(3):
                start = time.perf_counter()
                refused = client.post(
                    "/v1/feedback", json={"prediction_id": first["prediction_id"], "correct": True}
                )
                assert refused.status_code == 503 and time.perf_counter() - start < 2.0
                assert int(refused.headers["Retry-After"]) >= 1
                start = time.perf_counter()
                ready = client.get("/ready")
                assert ready.status_code == 503 and time.perf_counter() - start < 1.0
            pending = next(
                float(line.split()[-1])
                for line in client.get("/metrics").text.splitlines()
                if line.startswith("nlpops_prediction_rows_pending ")
            )
            assert pending >= 10  # the held rows are counted wherever they wait
            private_pg.resume()
            deadline = time.monotonic() + 30
            while client.get("/ready").status_code != 200 and time.monotonic() < deadline:
                time.sleep(0.2)
            answer = client.post("/v1/feedback", json={"prediction_id": held[-1], "correct": True})
            assert answer.status_code == 201, answer.text
        predictions, _ = wait_stored(private_pg.url, Acked(predictions=[first["prediction_id"], *held]))
        assert {first["prediction_id"], *held} <= predictions
    finally:
        server.stop()
