"""Write-behind for predictions: requests hand rows to a thread that inserts them in batches.

One multi-row INSERT and one commit per batch, instead of one transaction per request, and off the
request path. Readers that must see every prediction answered so far (feedback on a prediction id,
the stats, the export) call :meth:`PredictionWriter.flush` first. A failed insert is retried once, then
logged with the number of rows lost (the answers were already sent; the service stays up).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import SQLAlchemyError

from nlpops.serve.db import Prediction, Store

log = logging.getLogger(__name__)
_STOP = object()


class PredictionWriter:
    """A daemon thread that inserts queued prediction rows (dicts of ``Prediction`` columns).

    Args:
        store: the database store.
        max_rows: the most rows in one INSERT.
        retry_delay_s: pause before the one retry of a failed batch.
    """

    def __init__(self, store: Store, max_rows: int = 1000, retry_delay_s: float = 0.5) -> None:
        self.store = store
        self.max_rows = max_rows
        self.retry_delay_s = retry_delay_s
        self.written = 0
        self.lost = 0
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the thread (idempotent)."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="nlpops-writer", daemon=True)
                self._thread.start()

    def submit(self, rows: list[dict[str, Any]]) -> None:
        """Queue rows for insertion; returns at once."""
        self.start()
        self._queue.put(rows)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every row submitted before this call is written (or given up); False on timeout."""
        if self._thread is None:
            return True
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the thread."""
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)

    def _drain(self, first: Any) -> tuple[list[dict[str, Any]], list[Any]]:
        """Rows queued so far (up to ``max_rows``) and the markers (flush events, stop) met on the way."""
        rows: list[dict[str, Any]] = []
        markers: list[Any] = []
        item = first
        while True:
            if isinstance(item, list):
                rows.extend(item)
            else:
                markers.append(item)
            if len(rows) >= self.max_rows or markers:
                return rows, markers  # a marker ends the batch: a flush must see rows before it only
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return rows, markers

    def _run(self) -> None:
        while True:
            rows, markers = self._drain(self._queue.get())
            if rows:
                self._insert(rows)
            for marker in markers:
                if marker is _STOP:
                    return
                marker.set()

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        for attempt in (1, 2):
            try:
                with self.store.session_factory() as session:
                    session.execute(insert(Prediction), rows)
                    session.commit()
                self.written += len(rows)
                return
            except SQLAlchemyError as err:
                reason = str(err).splitlines()[0]
                if attempt == 2:
                    self.lost += len(rows)
                    log.error("could not store %d predictions, dropped: %s", len(rows), reason)
                    return
                log.warning("storing %d predictions failed, retrying: %s", len(rows), reason)
                time.sleep(self.retry_delay_s)
