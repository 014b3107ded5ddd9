"""Feedback under load against a real uvicorn on PostgreSQL, and ``kill -9`` of the API during it.

Usage:
    /work/main/.venv/bin/python bench/bench_feedback.py [--posts 10000] [--concurrency 64]
        [--kill-at 5000] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]

All on 127.0.0.1, in a fresh PostgreSQL schema (dropped at the end) and a temporary folder:

1. fits a ``tfidf_lr`` on 2,000 tweets of the shipped sample and saves it (the server loads the folder);
2. starts ``uvicorn nlpops.serve.app:create_app --factory`` (1 worker) on that schema, waits for ``/ready``,
   and makes one prediction per post to give feedback on (a prediction keeps one verdict: the last);
3. load: ``--posts`` feedback posts from ``--concurrency`` keep-alive connections; prints wall time,
   posts/s, p50/p99 latency, errors, and checks that the feedback rows equal the acknowledged (201) posts;
4. crash: the same load again, ``kill -9`` of the server once ``--kill-at`` posts are acknowledged, restart
   on the same port, and checks that every acknowledged feedback id is in the database.

Exit status 1 when a check fails. ``tests/api/test_feedback_load.py`` runs the same code scaled down.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "sentiment140_sample.csv"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass
class LoadResult:
    """What one load run saw from the client side."""

    posts: int
    wall_s: float
    acked: list[str] = field(default_factory=list)  # ids of the feedback answered 201
    errors: dict[str, int] = field(default_factory=dict)  # status code or exception name -> count
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def n_errors(self) -> int:
        """Posts not acknowledged."""
        return sum(self.errors.values())

    def summary(self) -> str:
        """One line of figures."""
        lat = sorted(self.latencies_ms) or [float("nan")]
        p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))]
        return (
            f"{self.posts:,} posts in {self.wall_s:.1f} s = {len(self.acked) / self.wall_s:,.0f} acked/s, "
            f"p50 {statistics.median(lat):.1f} ms, p99 {p99:.1f} ms, acked {len(self.acked):,}, "
            f"errors {self.n_errors:,} {self.errors or ''}"
        )


async def post_feedback(
    base: str,
    prediction_ids: list[str],
    posts: int,
    concurrency: int,
    on_ack: Callable[[int], None] | None = None,
) -> LoadResult:
    """Send ``posts`` feedback posts over ``concurrency`` connections; ``on_ack(n)`` after each 201."""
    result = LoadResult(posts=posts, wall_s=0.0)
    counter = iter(range(posts))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(client: httpx.AsyncClient) -> None:
        for i in counter:
            body = {"prediction_id": prediction_ids[i % len(prediction_ids)], "correct": i % 10 != 0}
            start = time.perf_counter()
            try:
                response = await client.post("/v1/feedback", json=body)
            except httpx.HTTPError as err:
                key = type(err).__name__
            else:
                if response.status_code == 201:
                    result.latencies_ms.append((time.perf_counter() - start) * 1000)
                    result.acked.append(response.json()["id"])
                    if on_ack is not None:
                        on_ack(len(result.acked))
                    continue
                key = str(response.status_code)
            result.errors[key] = result.errors.get(key, 0) + 1

    start = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    result.wall_s = time.perf_counter() - start
    return result


def make_predictions(base: str, n: int, batch: int = 128) -> list[str]:
    """``n`` prediction ids from ``POST /v1/predict`` (batches of ``batch`` texts)."""
    ids: list[str] = []
    with httpx.Client(base_url=base, timeout=30) as client:
        while len(ids) < n:
            texts = [f"what a day number {len(ids) + i}" for i in range(min(batch, n - len(ids)))]
            response = client.post("/v1/predict", json={"texts": texts})
            response.raise_for_status()
            ids += [p["prediction_id"] for p in response.json()["predictions"]]
    return ids


def feedback_ids(url: str) -> set[str]:
    """Every feedback id stored behind the SQLAlchemy ``url``."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return set(conn.scalars(text("SELECT id FROM feedback")))
    finally:
        engine.dispose()


def run_load(base: str, db_url: str, predictions: list[str], posts: int, concurrency: int) -> LoadResult:
    """The load phase; asserts zero errors and as many new rows as acknowledged posts."""
    before = feedback_ids(db_url)
    result = asyncio.run(post_feedback(base, predictions, posts, concurrency))
    stored = feedback_ids(db_url) - before
    assert result.n_errors == 0, f"errors under load: {result.errors}"
    assert stored == set(result.acked), (
        f"{len(stored)} rows stored for {len(result.acked)} acknowledged posts"
    )
    return result


def run_crash(
    server: Server, db_url: str, predictions: list[str], posts: int, concurrency: int, kill_at: int
) -> tuple[LoadResult, int, float]:
    """The crash phase: kill -9 once ``kill_at`` posts are acked, restart; (result, rows, restart s).

    Asserts that every acknowledged feedback is stored; rows committed whose answer was lost in the
    kill are counted apart (the client may retry those: the API has no idempotency key).
    """
    before = feedback_ids(db_url)

    def on_ack(n: int) -> None:
        if n == kill_at:
            server.kill()

    result = asyncio.run(post_feedback(server.base, predictions, posts, concurrency, on_ack))
    start = time.perf_counter()
    server.start()
    restart_s = time.perf_counter() - start
    stored = feedback_ids(db_url) - before
    missing = set(result.acked) - stored
    assert not missing, f"{len(missing)} acknowledged feedback lost in the crash"
    return result, len(stored), restart_s


class Server:
    """``uvicorn nlpops.serve.app:create_app --factory`` on a loopback port, restartable on it."""

    def __init__(self, env: dict[str, str], workdir: Path, port: int) -> None:
        self.env, self.workdir, self.port = env, workdir, port
        self.base = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 60) -> None:
        """Start and wait until ``/ready`` answers 200."""
        cmd = [sys.executable, "-m", "uvicorn", "nlpops.serve.app:create_app", "--factory"]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        with (self.workdir / "server.log").open("ab") as log:
            self.proc = subprocess.Popen(cmd, env=self.env, cwd=self.workdir, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {(self.workdir / 'server.log').read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.base}/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server not ready after {timeout_s} s")

    def kill(self) -> None:
        """``kill -9``."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 15 s."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def pg_schema(pg_url: str) -> Iterator[str]:
    """A fresh schema on the server at ``pg_url``; yields a URL whose ``search_path`` is that schema."""
    schema = f"nlpops_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{pg_url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def fit_model(folder: Path, rows: int = 2000) -> Path:
    """A ``tfidf_lr`` fitted on ``rows`` random tweets of the shipped sample, saved to ``folder``."""
    import pandas as pd

    from nlpops.models.registry import build_model

    df = pd.read_csv(SAMPLE).dropna(subset=["text", "label"]).sample(rows, random_state=0)
    model = build_model("tfidf_lr")
    model.fit(df["text"].astype(str).tolist(), df["label"].astype(str).tolist())
    return model.save(folder)


def free_port() -> int:
    """A TCP port free on the loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> int:
    """Run both phases and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--kill-at", type=int, default=5_000)
    parser.add_argument("--pg", default=PG_URL)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-feedback-") as tmp, pg_schema(args.pg) as db_url:
        workdir = Path(tmp)
        model_dir = fit_model(workdir / "model")
        env = os.environ | {
            "NLPOPS_MODEL_URI": str(model_dir),
            "NLPOPS_DATABASE_URL": db_url,
            "NLPOPS_RELOAD_INTERVAL_S": "0",
            "NLPOPS_SPIKE_INTERVAL_S": "0",
            "NLPOPS_MODEL_CACHE_DIR": str(workdir / "cache"),
        }
        server = Server(env, workdir, free_port())
        server.start()
        try:
            predictions = make_predictions(server.base, args.posts)
            print(f"load  ({args.concurrency} concurrent):", flush=True)
            load = run_load(server.base, db_url, predictions, args.posts, args.concurrency)
            print(f"  {load.summary()}\n  feedback rows stored = acknowledged posts: OK", flush=True)
            print(f"crash (kill -9 at {args.kill_at:,} acknowledged, restart):", flush=True)
            predictions = make_predictions(server.base, args.posts)
            crash, stored, restart_s = run_crash(
                server, db_url, predictions, args.posts, args.concurrency, args.kill_at
            )
            print(f"  {crash.summary()}")
            print(
                f"  rows stored {stored:,} >= acknowledged {len(crash.acked):,}: every acknowledged "
                f"feedback is in the database ({stored - len(crash.acked)} committed, answer lost in the "
                f"kill); restart to /ready {restart_s:.1f} s"
            )
        except AssertionError as err:
            print(f"FAILED: {err}", file=sys.stderr)
            return 1
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
