"""The prediction writer through a database outage: rows are held (bounded), retried, and stored
once the database answers again; the thread never dies.

The outage is simulated on a real SQLite store by making its session factory raise the driver's
connection error; the real PostgreSQL outage is in ``test_pg_outage.py``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from nlpops.serve.db import Prediction, Store, new_id, utcnow
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
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'w.db'}")
    assert store.check() is None
    yield store
    store.close()


def stored(store: Store) -> list[str]:
    with store.session_factory() as session:
        return list(session.scalars(select(Prediction.text).order_by(Prediction.text)))


def switched(store: Store, **kwargs: Any) -> tuple[PredictionWriter, Switch]:
    switch = Switch(store)
    store.session_factory = switch  # type: ignore[assignment]
    return PredictionWriter(store, **kwargs), switch


def test_rows_are_held_through_an_outage_and_stored_after(store: Store) -> None:
    writer, switch = switched(store, retry_delay_s=0.05, max_retry_delay_s=0.1)
    switch.down = True
    for i in range(5):
        writer.submit([row(f"t{i}")])
    assert writer.flush(timeout=2)  # a flush answers during the outage (the reader then sees 503)
    assert writer.pending == 5 and writer.lost == 0 and writer.written == 0
    switch.down = False
    deadline = time.monotonic() + 3
    while writer.pending and time.monotonic() < deadline:  # no new traffic: the backoff retries alone
        time.sleep(0.02)
    assert writer.pending == 0 and writer.written == 5
    assert stored(store) == [f"t{i}" for i in range(5)]
    writer.submit([row("t5")])
    assert writer.flush() and stored(store)[-1] == "t5"
    writer.close()


def test_a_flush_retries_at_once_when_the_database_is_back(store: Store) -> None:
    writer, switch = switched(store, retry_delay_s=60, max_retry_delay_s=60)  # backoff never due
    switch.down = True
    writer.submit([row("held")])
    assert writer.flush(timeout=2) and writer.pending == 1
    switch.down = False
    assert writer.flush(timeout=2)  # feedback on a held prediction must find it
    assert writer.pending == 0 and stored(store) == ["held"]
    writer.close()


def test_the_backlog_is_bounded(store: Store) -> None:
    writer, switch = switched(store, max_backlog=3, retry_delay_s=60)
    switch.down = True
    for i in range(5):
        writer.submit([row(f"t{i}")])
    assert writer.flush(timeout=2)
    assert writer.pending == 3 and writer.lost == 2  # the two oldest dropped
    switch.down = False
    assert writer.flush(timeout=2)
    assert stored(store) == ["t2", "t3", "t4"] and writer.lost == 2
    writer.close()


def test_a_bad_row_costs_only_itself(store: Store) -> None:
    writer = PredictionWriter(store, retry_delay_s=0)
    same = new_id()
    writer.submit([row("first", same)])
    assert writer.flush()
    # IntegrityError: not an outage; the batch is retried once, then row by row
    writer.submit([row("good 1"), row("duplicate id", same), row("good 2")])
    assert writer.flush(timeout=2)
    assert writer.pending == 0 and writer.lost == 1
    assert stored(store) == ["first", "good 1", "good 2"]
    writer.close()


def test_the_thread_survives_unexpected_errors(store: Store) -> None:
    writer, switch = switched(store)
    switch.down, switch.error = True, RuntimeError  # not even a database error
    writer.submit([row("boom")])
    assert writer.flush(timeout=2)
    switch.down = False
    writer.submit([row("after")])
    assert writer.flush(timeout=2) and stored(store) == ["after"]
    assert writer._thread is not None and writer._thread.is_alive()
    writer.close()


def test_close_stores_the_backlog_when_it_can(store: Store) -> None:
    writer, switch = switched(store, retry_delay_s=60)
    switch.down = True
    writer.submit([row("late")])
    assert writer.flush(timeout=2) and writer.pending == 1
    switch.down = False
    writer.close()
    assert stored(store) == ["late"] and writer.lost == 0


def test_only_connection_errors_count_as_an_outage() -> None:
    assert is_unreachable(OperationalError("x", {}, Exception("down")))
    assert not is_unreachable(IntegrityError("x", {}, Exception("dup")))


def test_flush_with_nothing_pending_skips_the_thread(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    writer = PredictionWriter(store)
    writer.submit([row("one")])
    assert writer.flush() and stored(store) == ["one"]
    monkeypatch.setattr(writer._queue, "put", lambda item: pytest.fail("flush went through the queue"))
    assert writer.flush()  # every feedback calls it: no round trip when all is written
    monkeypatch.undo()
    writer.close()
