"""Feedback under load against a real uvicorn on PostgreSQL, and ``kill -9`` of the API during it.

The scaled-down version of ``bench/bench_feedback.py`` (same code): 1,000 posts at 32 concurrent with
zero errors and as many rows as acknowledged posts; then a load cut by ``kill -9``, a restart, and every
acknowledged feedback found in the database.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from live_server import LiveServer

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_feedback.py"


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_feedback", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_feedback"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


bench = load_bench()


@pytest.fixture
def server(pg_schema_url: str, model_dir: Path, tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(pg_schema_url, model_dir, tmp_path).start()
    try:
        yield live
    finally:
        live.stop()


def test_feedback_under_load(server: LiveServer, pg_schema_url: str) -> None:
    predictions = bench.make_predictions(server.base, 1000)  # one verdict per prediction
    result = bench.run_load(server.base, pg_schema_url, predictions, posts=1000, concurrency=32)
    assert len(result.acked) == 1000 and len(set(result.acked)) == 1000
    assert len(bench.feedback_ids(pg_schema_url)) == 1000


def test_kill_9_loses_no_acknowledged_feedback(server: LiveServer, pg_schema_url: str) -> None:
    predictions = bench.make_predictions(server.base, 600)
    result, stored, _ = bench.run_crash(
        server, pg_schema_url, predictions, posts=600, concurrency=32, kill_at=300
    )
    assert 300 <= len(result.acked) < 600, "the kill should cut the load"
    assert result.n_errors > 0 and stored >= len(result.acked)
    assert server.proc is not None and server.proc.poll() is None  # restarted and serving
    fresh = bench.make_predictions(server.base, 50)
    again = bench.run_load(server.base, pg_schema_url, fresh, posts=50, concurrency=8)
    assert len(again.acked) == 50
