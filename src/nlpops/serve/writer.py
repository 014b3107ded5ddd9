"""Prediction rows: durable in the spool before the answer, then inserted by a background thread.

Requests hand their rows to :meth:`PredictionWriter.submit`, which appends them to the local spool
(``serve/spool.py``) and returns once they are on disk; the rows also go to this writer's thread,
which inserts them in batches (one multi-row ``INSERT`` and one commit per batch, off the request
path) and tells the spool what is committed, so that finished segment files are deleted.

When the database is unreachable, the thread stops inserting and drops the rows it was handed:
they are on disk. It retries with a backoff (``retry_delay_s`` doubling up to
``max_retry_delay_s``) and at every flush; once the database answers, it reads what is missing
back from the spool, in order, and goes on. Rows left by a process that died (``kill -9``) or
stopped during an outage are read back the same way at start. Every insert skips rows already
stored (``ON CONFLICT DO NOTHING``), so reading a segment again never doubles a row. Readers that
must see every prediction answered so far (feedback on a prediction id, the stats, the export) call
:meth:`PredictionWriter.flush` first.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from nlpops.serve.db import Store
from nlpops.serve.spool import Row, Segment, Spool, Ticket

log = logging.getLogger(__name__)
_STOP = object()
MIN_RETRY_DELAY_S = 0.05  # even with retry_delay_s=0, an outage is not retried in a busy loop


class _OutageError(Exception):
    """The database did not answer: stop here, the rows wait in the spool."""


def is_unreachable(err: BaseException) -> bool:
    """Whether ``err`` says the database cannot be reached (worth keeping the rows for later)."""
    if isinstance(err, OperationalError | InterfaceError):
        return True
    return isinstance(err, DBAPIError) and bool(err.connection_invalidated)


class PredictionWriter:
    """The spool of answered predictions and the daemon thread that moves them to the database.

    Args:
        store: the database store.
        spool: the local spool (opened by :meth:`start`).
        max_rows: the most rows in one INSERT.
        retry_delay_s: first pause before retrying after an outage.
        max_retry_delay_s: the longest pause between two attempts during an outage.
    """

    def __init__(
        self,
        store: Store,
        spool: Spool,
        max_rows: int = 1000,
        retry_delay_s: float = 0.5,
        max_retry_delay_s: float = 5.0,
    ) -> None:
        self.store = store
        self.spool = spool
        self.max_rows = max_rows
        self.retry_delay_s = retry_delay_s
        self.max_retry_delay_s = max_retry_delay_s
        self.written = 0  # rows inserted by this process (replays included)
        self.lost = 0  # rows the database refused for good (not an outage)
        self._down = False  # the last attempt met an outage: what is queued waits in the spool
        self._delay_s = retry_delay_s
        self._next_try = 0.0  # time.monotonic() of the next attempt after an outage
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # start, and appends in queue order

    @property
    def pending(self) -> int:
        """Rows answered (or left by a stopped process) and not yet committed to the database."""
        return self.spool.pending_rows

    @property
    def down(self) -> bool:
        """Whether the last attempt to write found the database unreachable."""
        return self._down

    def start(self) -> None:
        """Open the spool (adopting what a stopped process left) and start the thread (idempotent)."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self.spool.open()
                self._thread = threading.Thread(target=self._run, name="nlpops-writer", daemon=True)
                self._thread.start()

    def submit(self, rows: list[Row]) -> None:
        """Write ``rows`` to the spool, make them durable, and queue them for the database.

        Blocking (a write and an ``fdatasync``): called from the batcher's worker thread, once per
        batch. Raises ``SpoolFullError`` when the spool is full, ``OSError`` when the disk fails.
        """
        self.start()
        with self._lock:  # the queue keeps the order of the spool
            ticket = self.spool.append(rows)
            self._queue.put(ticket)
        self.spool.sync()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every row submitted before this call is in the database, or known to wait in
        the spool because the database is down; False on timeout."""
        if self._thread is None:
            return True
        if self._queue.unfinished_tasks == 0 and not self._down and self.pending == 0:
            return True  # nothing to write: no round trip through the thread
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued (one last try after an outage), stop the thread, close the spool."""
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)
        if self._thread is None or not self._thread.is_alive():
            if self.pending:
                log.warning(
                    "stopping with %d predictions not yet in the database; they stay in %s and are "
                    "stored at the next start",
                    self.pending,
                    self.spool.folder,
                )
            self.spool.close()

    # --- the thread ---------------------------------------------------------------------------
    def _run(self) -> None:
        self._attempt(self._catch_up)  # what stopped processes left
        while True:
            try:
                first = self._queue.get(timeout=self._wait_s())
            except queue.Empty:
                self._attempt(self._catch_up)
                continue
            tickets, markers, n_items = self._drain(first)
            if not self._down:
                self._attempt(self._write, tickets)
            elif markers or time.monotonic() >= self._next_try:
                self._attempt(self._catch_up)  # reads these tickets' rows back from the spool
            for _ in range(n_items):
                self._queue.task_done()  # flush's fast path counts what is still to do
            for marker in markers:
                if marker is _STOP:
                    return
                marker.set()

    def _attempt(self, step: Callable[..., None], *args: Any) -> None:
        """Run one step; an outage schedules a retry, an unexpected error is logged: the thread
        never dies."""
        try:
            step(*args)
        except _OutageError:
            self._down = True
            self._next_try = time.monotonic() + self._delay_s
            self._delay_s = min(max(self._delay_s * 2, MIN_RETRY_DELAY_S), self.max_retry_delay_s)
            return
        except Exception:
            log.exception("the prediction writer hit an unexpected error; it keeps running")
            return
        if self._down:
            log.info("database back: the predictions held in the spool are stored")
        self._down = False
        self._delay_s = self.retry_delay_s
        self.spool.release_done()

    def _wait_s(self) -> float | None:
        """How long to wait for new rows: until the next retry after an outage, else forever."""
        return max(0.0, self._next_try - time.monotonic()) if self._down else None

    def _drain(self, first: Any) -> tuple[list[Ticket], list[Any], int]:
        """Tickets queued so far (up to ``max_rows`` rows), the markers (flush events, stop) met on
        the way, and how many queue items that was."""
        tickets: list[Ticket] = []
        markers: list[Any] = []
        item, n_items, n_rows = first, 1, 0
        while True:
            if isinstance(item, Ticket):
                tickets.append(item)
                n_rows += len(item.rows)
            else:
                markers.append(item)
            if n_rows >= self.max_rows or markers:
                return tickets, markers, n_items  # a marker ends the batch: a flush sees rows before it
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return tickets, markers, n_items
            n_items += 1

    def _write(self, tickets: list[Ticket]) -> None:
        """Insert the tickets' rows, after anything older still missing from the database."""
        for segment, group in itertools.groupby(tickets, key=lambda t: t.segment):
            fresh = [t for t in group if t.end > segment.committed]
            if not fresh:
                continue  # read back from the spool already
            self._catch_up(before=segment)
            if fresh[0].start == segment.committed:  # contiguous: the rows are at hand
                self._commit(segment, [r for t in fresh for r in t.rows], fresh[-1].end)
            else:
                self._replay(segment, fresh[-1].end)

    def _catch_up(self, before: Segment | None = None) -> None:
        """Insert every row written to the spool and not committed yet, oldest first (only the
        segments older than ``before`` when given)."""
        for segment, size in self.spool.snapshot():
            if segment is before:
                return
            self._replay(segment, size)

    def _replay(self, segment: Segment, end: int) -> None:
        """Insert the rows of ``segment`` from its committed offset to ``end``, read from disk."""
        for rows, position in self.spool.read(segment, segment.committed, end):
            self._commit(segment, rows, position)

    def _commit(self, segment: Segment, rows: list[Row], end: int) -> None:
        for start in range(0, len(rows), self.max_rows):
            self._insert_safely(rows[start : start + self.max_rows])
        segment.committed = end
        segment.committed_rows += len(rows)

    def _insert_safely(self, rows: list[Row]) -> None:
        """Insert ``rows``; an outage raises ``_OutageError``, a refused batch is retried row by row so
        that one bad row (not an outage) costs only itself."""
        try:
            self._insert(rows)
        except SQLAlchemyError as err:
            if is_unreachable(err):
                if not self._down:  # once per outage, not at every retry
                    log.warning("database unreachable, predictions wait in the spool: %s", _first_line(err))
                raise _OutageError from err
            log.warning("storing %d predictions failed, storing them one by one: %s", len(rows), err)
            self._insert_each(rows)

    def _insert(self, rows: Iterable[Row]) -> None:
        # A Core INSERT of the table: the ORM's bulk path cost ~50% more per row, on the thread that
        # shares the GIL with the request loop.
        rows = list(rows)
        if not rows:
            return
        with self.store.session_factory() as session:
            session.execute(self.store.insert_predictions, rows)
            session.commit()
        self.written += len(rows)

    def _insert_each(self, rows: list[Row]) -> None:
        for one in rows:
            try:
                self._insert([one])
            except SQLAlchemyError as err:
                if is_unreachable(err):
                    raise _OutageError from err
                self.lost += 1
                log.error("could not store prediction %s, dropped: %s", one.get("id"), _first_line(err))


def _first_line(err: BaseException) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__
