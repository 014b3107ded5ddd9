"""Database work of a request, under a deadline: a hung database costs a request seconds, not minutes.

A database that refuses connections fails fast by itself. One that hangs (a stalled server, a
network that drops packets) does not: a driver call can wait as long as the server does, and a
request waiting on it holds a worker thread. So every request's database work runs here, in a pool
of its own, and the request waits at most ``timeout_s``; past it the answer is 503 with
``Retry-After``, and for ``retry_after_s`` the next requests get the same answer at once instead of
piling more threads onto the stalled server (a circuit breaker). The thread left behind finishes
when the server answers or its connection times out; the pool bounds how many can be left so.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from nlpops.serve.db import Store
from nlpops.serve.writer import PredictionWriter

T = TypeVar("T")
DATABASE_DOWN = "the database is unavailable; nothing was stored, retry in a moment"


class DatabaseUnavailableError(Exception):
    """The database did not answer in time (or is known not to): nothing was stored."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s

    @property
    def retry_after(self) -> str:
        """The ``Retry-After`` header's value, in whole seconds."""
        return str(max(1, math.ceil(self.retry_after_s)))


class DatabaseCalls:
    """Run database work for requests with a deadline and a breaker.

    Args:
        store: the database store.
        writer: flushed before a read, so that the read sees every prediction answered so far.
        timeout_s: the longest a request waits for the database.
        retry_after_s: how long requests are refused at once after a timeout.
        workers: threads for database work.
        max_waiting: requests that may wait for a thread; past it, 503 at once.
    """

    def __init__(
        self,
        store: Store,
        writer: PredictionWriter,
        timeout_s: float = 1.5,
        retry_after_s: float = 2.0,
        workers: int = 8,
        max_waiting: int = 256,
    ) -> None:
        self.store = store
        self.writer = writer
        self.timeout_s = timeout_s
        self.retry_after_s = retry_after_s
        self.workers = workers
        self.max_waiting = max_waiting
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="nlpops-db")
        self._busy = 0
        self._busy_lock = threading.Lock()
        self._refuse_until = 0.0

    def _refuse(self, why: str) -> DatabaseUnavailableError:
        return DatabaseUnavailableError(
            f"the database {why}; nothing was stored, retry in a moment", self.retry_after_s
        )

    async def call(self, fn: Callable[..., T], *args: Any, timeout_s: float | None = None) -> T:
        """``fn(*args)`` in the pool, waiting at most ``timeout_s`` (default: the gate's)."""
        if time.monotonic() < self._refuse_until:
            raise self._refuse("is not answering")
        if self._busy >= self.workers + self.max_waiting:
            raise self._refuse("is slow to answer (too many requests are waiting for it)")
        timeout = self.timeout_s if timeout_s is None else timeout_s
        with self._busy_lock:
            self._busy += 1
        future = asyncio.get_running_loop().run_in_executor(self._pool, self._counted, fn, args)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            self._refuse_until = time.monotonic() + self.retry_after_s
            raise self._refuse(f"did not answer within {timeout:g} s") from None

    def _counted(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        try:
            return fn(*args)
        finally:
            with self._busy_lock:
                self._busy -= 1

    async def session(self, fn: Callable[..., T], *args: Any, flush: bool = True) -> T:
        """``fn(session, *args)`` in a session of its own, after flushing the prediction writer
        (when ``flush``) so that the reads see every prediction answered so far."""
        deadline = time.monotonic() + self.timeout_s

        def work() -> T:
            if flush and not self.writer.flush(timeout=max(0.0, deadline - time.monotonic())):
                raise self._refuse("has not stored the latest predictions yet")
            with self.store.session_factory() as session:
                return fn(session, *args)

        return await self.call(work)

    def close(self) -> None:
        """Stop taking work; threads still waiting on the database are left to finish."""
        self._pool.shutdown(wait=False, cancel_futures=True)
