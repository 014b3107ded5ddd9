"""What keeps one client from stalling or probing the service: body size, a bounded pool for the
costly explanations, a limit on wrong admin keys, and the security headers of every answer.

Each piece answers early and small: a request over a limit is refused before its body is parsed,
an explanation that would wait too long is refused with ``429`` and ``Retry-After`` instead of
taking a thread that ``/health`` and ``/v1/predict`` need.
"""

from __future__ import annotations

import asyncio
import json
import math
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, TypeVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

T = TypeVar("T")


async def send_json(send: Send, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
    """Answer ``{"detail": detail}`` with ``status`` straight through ASGI."""
    body = json.dumps({"detail": detail}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with 413: by ``Content-Length`` before reading, or
    (a chunked body, whose size is not announced) by reading it up to the limit first."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        detail = f"the request body is over {self.max_bytes:,} bytes; send less per request"
        length = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if length is not None:  # the server reads exactly that many bytes
            if not length.isdigit() or int(length) > self.max_bytes:
                await send_json(send, 413, detail)
                return
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await send_json(send, 413, detail)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


class SecurityHeadersMiddleware:
    """Add the security headers to every answer (JSON, pages, static files, errors); a header the
    answer sets itself (the API docs' own ``Content-Security-Policy``) is kept."""

    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app = app
        self.raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                message = {**message, "headers": headers + [h for h in self.raw if h[0] not in present]}
            await send(message)

        await self.app(scope, receive, with_headers)


class BusyError(Exception):
    """The pool and its queue are full: come back after ``retry_after_s``."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class BoundedPool:
    """At most ``workers`` calls at once and ``queue`` waiting; past that :meth:`run` raises
    ``BusyError`` at once rather than queueing without end.

    A call runs in a thread, or in a worker process when :meth:`run` is asked to isolate it: CPU-bound
    Python in a thread holds the interpreter lock that the event loop needs for every request, so
    ``/health`` and predictions wait on it; a process shares no lock with them.

    Args:
        workers: threads (and worker processes) running calls.
        queue: calls that may wait for one.
        name: for the threads and the message.
    """

    def __init__(self, workers: int, queue: int, name: str) -> None:
        self.workers = workers
        self.capacity = workers + queue
        self.name = name
        self._threads = ThreadPoolExecutor(workers, thread_name_prefix=f"nlpops-{name}")
        self._processes: ProcessPoolExecutor | None = None  # started by the first isolated call
        self._taken = 0
        self._lock = threading.Lock()
        self._recent_s: deque[float] = deque(maxlen=20)  # durations of the last calls

    def retry_after_s(self) -> float:
        """A guess of when a place frees up: the mean duration of recent calls (at least 1 s)."""
        return max(1.0, sum(self._recent_s) / len(self._recent_s)) if self._recent_s else 1.0

    async def run(self, fn: Callable[..., T], *args: Any, isolate: bool = False) -> T:
        """``fn(*args)`` in a thread, or in a worker process with ``isolate`` (then ``fn`` and its
        arguments must pickle: a module-level function and plain values).

        Raises:
            BusyError: ``workers`` calls run and ``queue`` wait already.
        """
        with self._lock:
            if self._taken >= self.capacity:
                raise BusyError(
                    f"too many {self.name} requests at once; retry in a moment", self.retry_after_s()
                )
            self._taken += 1
        start = time.perf_counter()
        try:
            executor = self._worker_processes() if isolate else self._threads
            return await asyncio.get_running_loop().run_in_executor(executor, fn, *args)
        finally:
            self._recent_s.append(time.perf_counter() - start)
            with self._lock:
                self._taken -= 1

    def warm(self, fn: Callable[..., Any], *args: Any) -> None:
        """Start ``fn(*args)`` in a worker process and return at once (to load a model before the
        first call needs it)."""
        self._worker_processes().submit(fn, *args)

    def _worker_processes(self) -> ProcessPoolExecutor:
        # Spawned, not forked: the server has threads (writer, batcher) whose locks a fork would copy
        # in whatever state they were.
        with self._lock:
            if self._processes is None:
                self._processes = ProcessPoolExecutor(
                    self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=exit_with_parent,
                    initargs=(os.getpid(),),
                )
            return self._processes

    def close(self) -> None:
        """Stop the threads and the worker processes (a call under way finishes first)."""
        self._threads.shutdown(wait=False, cancel_futures=True)
        if self._processes is not None:
            self._processes.shutdown(wait=True, cancel_futures=True)


def exit_with_parent(parent_pid: int, every_s: float = 0.5) -> None:
    """In a worker process: exit as soon as ``parent_pid`` is gone, however it ended.

    A worker waits on a queue whose write end it also holds, so it never sees the server die: after a
    ``kill -9`` (or any exit that skips the pool's shutdown) it would live on, holding its model.
    """

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(every_s)
        os._exit(0)

    threading.Thread(target=watch, name="nlpops-exit-with-parent", daemon=True).start()


class FailureLimiter:
    """Count failures (wrong admin keys) per client; ``per_minute`` of them in a minute block that
    client until the oldest is a minute old.

    >>> limiter = FailureLimiter(2, clock=lambda: 0.0)
    >>> limiter.fail("a"); limiter.fail("a"); limiter.blocked_for("a"), limiter.blocked_for("b")
    (60.0, 0.0)
    """

    WINDOW_S = 60.0
    MAX_CLIENTS = 10_000  # beyond, the oldest clients are forgotten (memory stays bounded)

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}

    def fail(self, client: str) -> None:
        if client not in self._failures and len(self._failures) >= self.MAX_CLIENTS:
            self._failures.pop(next(iter(self._failures)))
        self._failures.setdefault(client, deque(maxlen=self.per_minute)).append(self.clock())

    def blocked_for(self, client: str) -> float:
        """Seconds before ``client`` may try again (0 when it may now)."""
        times = self._failures.get(client)
        if not times or len(times) < self.per_minute:
            return 0.0
        wait = times[0] + self.WINDOW_S - self.clock()
        if wait <= 0:
            del self._failures[client]
            return 0.0
        return float(math.ceil(wait))
