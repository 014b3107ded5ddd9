"""Write-behind for predictions: requests hand rows to a thread that inserts them in batches.

One multi-row INSERT and one commit per batch, instead of one transaction per request, and off the
request path. Readers that must see every prediction answered so far (feedback on a prediction id,
the stats, the export) call :meth:`PredictionWriter.flush` first.

When the database is unreachable (connection errors), the rows are kept in memory, up to
``max_backlog`` rows (the oldest are dropped beyond, and counted in ``lost``), and retried with a
backoff (``retry_delay_s`` doubling up to ``max_retry_delay_s``) and at every flush, so the service
answers predictions through an outage and stores them once the database is back, without restart.
Other database errors (a bad row) are retried once, then row by row: only the bad rows are dropped
(counted in ``lost``).
"""

from __future__ import annotations

import collections
import itertools
import logging
import queue
import threading
import time
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from nlpops.serve.db import Prediction, Store

log = logging.getLogger(__name__)
_STOP = object()
MIN_RETRY_DELAY_S = 0.05  # even with retry_delay_s=0, an outage is not retried in a busy loop
Row = dict[str, Any]
_INSERT = cast(Table, Prediction.__table__).insert()


def is_unreachable(err: BaseException) -> bool:
    """Whether ``err`` says the database cannot be reached (worth keeping the rows for later)."""
    if isinstance(err, OperationalError | InterfaceError):
        return True
    return isinstance(err, DBAPIError) and bool(err.connection_invalidated)


class PredictionWriter:
    """A daemon thread that inserts queued prediction rows (dicts of ``Prediction`` columns).

    Args:
        store: the database store.
        max_rows: the most rows in one INSERT.
        retry_delay_s: first pause before retrying rows the database refused.
        max_backlog: the most rows kept in memory while the database is unreachable.
        max_retry_delay_s: the longest pause between two attempts during an outage.
    """

    def __init__(
        self,
        store: Store,
        max_rows: int = 1000,
        retry_delay_s: float = 0.5,
        max_backlog: int = 100_000,
        max_retry_delay_s: float = 5.0,
    ) -> None:
        self.store = store
        self.max_rows = max_rows
        self.retry_delay_s = retry_delay_s
        self.max_backlog = max_backlog
        self.max_retry_delay_s = max_retry_delay_s
        self.written = 0
        self.lost = 0
        self._backlog: collections.deque[Row] = collections.deque()
        self._delay_s = retry_delay_s
        self._next_try = 0.0  # time.monotonic() of the next attempt at the backlog
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def pending(self) -> int:
        """Rows kept in memory until the database answers again."""
        return len(self._backlog)

    def start(self) -> None:
        """Start the thread (idempotent)."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="nlpops-writer", daemon=True)
                self._thread.start()

    def submit(self, rows: list[Row]) -> None:
        """Queue rows for insertion; returns at once."""
        self.start()
        self._queue.put(rows)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every row submitted before this call is written, or kept for later because the
        database is down, or given up; False on timeout."""
        if self._thread is None:
            return True
        if self._queue.unfinished_tasks == 0 and not self._backlog:
            return True  # nothing submitted is still in the queue: no round trip through the thread
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued (one last try for the backlog), then stop the thread."""
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)

    # --- the thread ---------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=self._wait_s())
            except queue.Empty:
                self._guarded(self._retry_backlog)
                continue
            rows, markers, n_items = self._drain(first)
            self._guarded(self._store, rows, force=bool(markers))
            for _ in range(n_items):
                self._queue.task_done()  # flush's fast path counts what is still to do
            for marker in markers:
                if marker is _STOP:
                    if self._backlog:
                        self.lost += len(self._backlog)
                        log.error("stopping with %d predictions unstored, dropped", len(self._backlog))
                    return
                marker.set()

    def _guarded(self, step: Any, *args: Any, **kwargs: Any) -> None:
        """Run one step; an unexpected error is logged and never ends the thread."""
        try:
            step(*args, **kwargs)
        except Exception:
            log.exception("the prediction writer hit an unexpected error; it keeps running")

    def _wait_s(self) -> float | None:
        """How long to wait for new rows: until the next retry when rows are held, else forever."""
        return max(0.0, self._next_try - time.monotonic()) if self._backlog else None

    def _drain(self, first: Any) -> tuple[list[Row], list[Any], int]:
        """Rows queued so far (up to ``max_rows``), the markers (flush events, stop) met on the way,
        and how many queue items that was."""
        rows: list[Row] = []
        markers: list[Any] = []
        item, n_items = first, 1
        while True:
            if isinstance(item, list):
                rows.extend(item)
            else:
                markers.append(item)
            if len(rows) >= self.max_rows or markers:
                return rows, markers, n_items  # a marker ends the batch: a flush sees rows before it only
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return rows, markers, n_items
            n_items += 1

    def _store(self, rows: list[Row], force: bool) -> None:
        """Insert ``rows``; behind a backlog they queue up, and the backlog is retried when due
        (or now when ``force``: a reader is waiting and the database may be back)."""
        if self._backlog:
            self._hold(rows)
            if force or time.monotonic() >= self._next_try:
                self._retry_backlog()
        elif rows:
            self._insert_fresh(rows)

    def _insert_fresh(self, rows: list[Row]) -> None:
        for attempt in (1, 2):
            try:
                self._insert(rows)
                return
            except SQLAlchemyError as err:
                reason = str(err).splitlines()[0]
                if is_unreachable(err):
                    log.warning(
                        "database unreachable, keeping %d predictions for later: %s", len(rows), reason
                    )
                    self._hold(rows)
                    self._schedule_retry()
                    return
                if attempt == 2:
                    self._insert_each(rows)
                    return
                log.warning("storing %d predictions failed, retrying: %s", len(rows), reason)
                time.sleep(self.retry_delay_s)

    def _retry_backlog(self) -> None:
        """Write the held rows, oldest first, ``max_rows`` at a time; stop at the first outage error.

        A batch leaves the backlog only once written (or dropped), so ``pending`` never misses it.
        """
        while self._backlog:
            batch = list(itertools.islice(self._backlog, self.max_rows))
            try:
                self._insert(batch)
            except SQLAlchemyError as err:
                if is_unreachable(err):
                    self._schedule_retry()
                    return
                self._insert_each(batch)  # a bad row: keep the good ones
            for _ in batch:
                self._backlog.popleft()
        log.info("database back: held predictions stored (%d written so far)", self.written)
        self._delay_s = self.retry_delay_s

    def _insert(self, rows: list[Row]) -> None:
        # A Core INSERT of the table: the ORM's bulk path (``insert(Prediction)``) cost ~50% more per
        # row, on the thread that shares the GIL with the request loop.
        with self.store.session_factory() as session:
            session.execute(_INSERT, rows)
            session.commit()
        self.written += len(rows)

    def _insert_each(self, rows: list[Row]) -> None:
        """Insert row by row, so that one bad row (not an outage) costs only itself."""
        for one in rows:
            try:
                self._insert([one])
            except SQLAlchemyError as err:
                self.lost += 1
                log.error(
                    "could not store prediction %s, dropped: %s", one.get("id"), str(err).splitlines()[0]
                )

    def _hold(self, rows: list[Row]) -> None:
        """Keep rows for a later try, dropping the oldest beyond ``max_backlog``."""
        self._backlog.extend(rows)
        overflow = len(self._backlog) - self.max_backlog
        if overflow > 0:
            for _ in range(overflow):
                self._backlog.popleft()
            self.lost += overflow
            log.error("prediction backlog full (%d rows): dropped the %d oldest", self.max_backlog, overflow)

    def _schedule_retry(self) -> None:
        self._next_try = time.monotonic() + self._delay_s
        self._delay_s = min(max(self._delay_s * 2, MIN_RETRY_DELAY_S), self.max_retry_delay_s)
