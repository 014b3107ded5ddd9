"""The prediction writer through a database outage: rows wait in the spool (bounded by disk),
are retried, and are stored once the database answers again, after a stop or a crash too; the
thread never dies.

The outage is simulated on a real SQLite store by making its session factory raise the driver's
connection error; the real PostgreSQL outage is in ``test_pg_outage.py``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from nlpops.serve.db import Prediction, Store, new_id, utcnow
from nlpops.serve.spool import Spool, SpoolFullError
from nlpops.serve.writer import PredictionWriter, is_unreachable


def row(text: str, row_id: str | None = None) -> dict[str, Any]:
    return {
        "id": row_id or new_id(), "created_at": utcnow(), "text": text, "text_sha256": "0" * 64,
        "label": "pos", "probabilities": {"pos": 1.0}, "model_name": "m", "model_version": None,
        "latency_ms": 1.0,
    }  # fmt: skip


class Switch:
    """A session factory that fails like an unreachable server while ``down`` is set."""

    def __init__(self, store: Store, error: type[Exception] = OperationalError) -> None:
        self.real, self.down, self.error, self.attempts = store.session_factory, False, error, 0

    def __call__(self) -> Session:
        if self.down:
            self.attempts += 1
            raise self.error("INSERT", {}, ConnectionRefusedError("connection refused"))
        return self.real()


@pytest.fixture
def spool_dir(tmp_path: Path) -> Path:
    return tmp_path / "spool"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'w.db'}")
    assert store.check() is None
    yield store
    store.close()


def stored(store: Store) -> list[str]:
    with store.session_factory() as session:
        return list(session.scalars(select(Prediction.text).order_by(Prediction.text)))


def switched(store: Store, folder: Path, **kwargs: Any) -> tuple[PredictionWriter, Switch]:
    switch = Switch(store)
    store.session_factory = switch  # type: ignore[assignment]
    max_bytes = kwargs.pop("max_bytes", 1 << 30)
    return PredictionWriter(store, Spool(folder, max_bytes), **kwargs), switch


def crash(writer: PredictionWriter) -> None:
    """What ``kill -9`` leaves: the thread gone, the files closed (their locks with them), nothing cleaned."""
    writer._queue.put(object.__new__(type("Stop", (), {"set": lambda self: None})))  # never read
    for segment in writer.spool.segments:
        os.close(segment.fd)
    writer.spool.segments.clear()


def test_rows_are_held_through_an_outage_and_stored_after(store: Store, spool_dir: Path) -> None:
    writer, switch = switched(store, spool_dir, retry_delay_s=0.05, max_retry_delay_s=0.1)
    switch.down = True
    for i in range(5):
        writer.submit([row(f"t{i}")])
    assert writer.flush(timeout=2)  # a flush answers during the outage (the reader then sees 503)
    assert writer.pending == 5 and writer.lost == 0 and writer.written == 0 and writer.down
    switch.down = False
    deadline = time.monotonic() + 3
    while writer.pending and time.monotonic() < deadline:  # no new traffic: the backoff retries alone
        time.sleep(0.02)
    assert writer.pending == 0 and writer.written == 5
    assert stored(store) == [f"t{i}" for i in range(5)]
    writer.submit([row("t5")])
    assert writer.flush() and stored(store)[-1] == "t5"
    writer.close()
    assert list(spool_dir.glob("*.spool")) == []  # everything stored: nothing left on disk


def test_a_flush_retries_at_once_when_the_database_is_back(store: Store, spool_dir: Path) -> None:
    writer, switch = switched(store, spool_dir, retry_delay_s=60, max_retry_delay_s=60)  # never due
    switch.down = True
    writer.submit([row("held")])
    assert writer.flush(timeout=2) and writer.pending == 1
    switch.down = False
    assert writer.flush(timeout=2)  # feedback on a held prediction must find it
    assert writer.pending == 0 and stored(store) == ["held"]
    writer.close()


def test_the_spool_is_bounded_by_bytes_and_drops_nothing(store: Store, spool_dir: Path) -> None:
    writer, switch = switched(store, spool_dir, retry_delay_s=60, max_bytes=1 << 20)
    writer.spool.max_bytes = 3 * len(row("t0").__repr__())  # about three rows
    switch.down = True
    accepted = 0
    with pytest.raises(SpoolFullError, match="the database has not answered for too long"):
        for i in range(100):
            writer.submit([row(f"t{i}")])
            accepted += 1
    assert 1 <= accepted < 100 and writer.pending == accepted and writer.lost == 0
    switch.down = False
    assert writer.flush(timeout=2)
    assert stored(store) == sorted(f"t{i}" for i in range(accepted))  # every accepted row, none other
    writer.submit([row("room again")])  # the spool emptied as the rows were stored
    writer.close()


def test_a_stop_during_an_outage_keeps_the_rows_for_the_next_start(store: Store, spool_dir: Path) -> None:
    writer, switch = switched(store, spool_dir, retry_delay_s=60)
    switch.down = True
    for i in range(3):
        writer.submit([row(f"t{i}")])
    writer.close()  # SIGTERM while the database is down
    assert writer.lost == 0 and len(list(spool_dir.glob("*.spool"))) == 1
    switch.down = False
    again = PredictionWriter(store, Spool(spool_dir, 1 << 30))
    again.start()  # the next process: replays what the last one left
    assert again.flush(timeout=5) and stored(store) == ["t0", "t1", "t2"]
    again.close()
    assert list(spool_dir.glob("*.spool")) == []


def test_a_crash_loses_no_submitted_row_and_stores_each_once(store: Store, spool_dir: Path) -> None:
    writer, _ = switched(store, spool_dir)
    for i in range(4):
        writer.submit([row(f"t{i}")])
    assert writer.flush()  # these are in the database and still in the open segment
    writer.submit([row("t4")])
    crash(writer)  # t4 may or may not have reached the database
    with (spool_dir / "torn.spool").open("wb") as torn:  # a write cut by the crash: never acknowledged
        torn.write(b'{"id": "half a row')
    again = PredictionWriter(store, Spool(spool_dir, 1 << 30))
    again.start()
    assert again.flush(timeout=5)
    assert stored(store) == ["t0", "t1", "t2", "t3", "t4"]  # replayed rows are not doubled
    assert again.spool.torn == 1 and again.pending == 0
    again.close()
    assert list(spool_dir.glob("*.spool")) == []


def test_a_segment_held_by_a_live_process_is_left_alone(store: Store, spool_dir: Path) -> None:
    first = PredictionWriter(store, Spool(spool_dir, 1 << 30))
    first.submit([row("mine")])
    other = Spool(spool_dir, 1 << 30)
    assert other.open() == []  # the live writer's segment is locked: not an orphan
    other.close()
    assert first.flush() and stored(store) == ["mine"]
    first.close()


def test_a_bad_row_costs_only_itself(store: Store, spool_dir: Path) -> None:
    writer = PredictionWriter(store, Spool(spool_dir, 1 << 30), retry_delay_s=0)
    same = new_id()
    writer.submit([row("first", same)])
    assert writer.flush()
    bad = {**row("no label"), "label": None}  # NOT NULL: refused for good, not an outage
    writer.submit([row("good 1"), row("same id again", same), bad, row("good 2")])
    assert writer.flush(timeout=2)
    assert writer.pending == 0 and writer.lost == 1
    assert stored(store) == ["first", "good 1", "good 2"]  # the repeated id is skipped, not doubled
    writer.close()


def test_the_thread_survives_unexpected_errors(store: Store, spool_dir: Path) -> None:
    writer, switch = switched(store, spool_dir)
    switch.down, switch.error = True, RuntimeError  # not even a database error
    writer.submit([row("boom")])
    assert writer.flush(timeout=2)
    switch.down = False
    writer.submit([row("after")])
    assert writer.flush(timeout=2) and stored(store) == ["after", "boom"]  # boom read back from disk
    assert writer._thread is not None and writer._thread.is_alive()
    writer.close()


def test_close_stores_the_backlog_when_it_can(store: Store, spool_dir: Path) -> None:
    writer, switch = switched(store, spool_dir, retry_delay_s=60)
    switch.down = True
    writer.submit([row("late")])
    assert writer.flush(timeout=2) and writer.pending == 1
    switch.down = False
    writer.close()
    assert stored(store) == ["late"] and writer.lost == 0


def test_only_connection_errors_count_as_an_outage() -> None:
    assert is_unreachable(OperationalError("x", {}, Exception("down")))
    assert not is_unreachable(IntegrityError("x", {}, Exception("dup")))


def test_flush_with_nothing_pending_skips_the_thread(
    store: Store, spool_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = PredictionWriter(store, Spool(spool_dir, 1 << 30))
    writer.submit([row("one")])
    assert writer.flush() and stored(store) == ["one"]
    monkeypatch.setattr(writer._queue, "put", lambda item: pytest.fail("flush went through the queue"))
    assert writer.flush()  # every feedback calls it: no round trip when all is written
    monkeypatch.undo()
    writer.close()
