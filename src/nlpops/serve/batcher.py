"""Micro-batching: concurrent predict requests share one ``predict_proba`` call.

A single text costs a model far more than its share of a batch (scikit-learn's input checks, the
vectoriser and the classifier each run once per call). While one batch is computed, the requests
that arrive queue up; the next batch takes all of them (up to ``max_texts``). Under no load a request
is computed at once (no waiting for company); under load, batches grow by themselves.

The model computes in one worker thread, so the event loop keeps reading and answering requests.
Requests are only batched with requests for the same loaded model, so a hot reload never mixes models.

The same thread hop finishes the batch: each request's ``finish`` turns its probabilities into
its result (the prediction rows), and the batcher's ``commit`` stores the results of the whole
batch at once (the spool: one write and one ``fdatasync`` for every request of the batch). A
request is answered only once its batch is committed; a commit that fails fails every request of
the batch, so nothing is answered that was not stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from nlpops.tracking import LoadedModel

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class _Job:
    loaded: LoadedModel
    texts: list[str]
    future: asyncio.Future[Any] = field(repr=False)
    finish: Callable[[np.ndarray], Any] | None = field(default=None, repr=False)


class MicroBatcher:
    """Gather concurrent ``predict`` calls into batched ``predict_proba`` calls.

    Args:
        max_texts: the most texts in one model call (a request larger than this runs alone).
        commit: called in the worker thread with the finished results of each batch (those of
            the requests that passed a ``finish``), before any of them is answered.
    """

    def __init__(self, max_texts: int = 256, commit: Callable[[list[Any]], None] | None = None) -> None:
        self.max_texts = max_texts
        self.commit = commit
        self._queue: asyncio.Queue[_Job] | None = None
        self._task: asyncio.Task[None] | None = None
        self._waiting: list[_Job] = []  # taken from the queue, not computed yet

    def _ensure_started(self) -> asyncio.Queue[_Job]:
        if self._queue is None or self._task is None or self._task.done():
            self._queue = asyncio.Queue()
            self._task = asyncio.get_running_loop().create_task(self._run(self._queue))
        return self._queue

    async def predict(self, loaded: LoadedModel, texts: list[str]) -> np.ndarray:
        """Class probabilities of ``texts`` (rows in order), computed with whatever else is queued."""
        result: np.ndarray = await self._submit(_Job(loaded, texts, self._future()))
        return result

    async def predict_then(
        self, loaded: LoadedModel, texts: list[str], finish: Callable[[np.ndarray], T]
    ) -> T:
        """``finish(probabilities of texts)``, run in the worker thread and committed with the batch."""
        result: T = await self._submit(_Job(loaded, texts, self._future(), finish))
        return result

    @staticmethod
    def _future() -> asyncio.Future[Any]:
        return asyncio.get_running_loop().create_future()

    async def _submit(self, job: _Job) -> Any:
        self._ensure_started().put_nowait(job)
        return await job.future

    async def close(self) -> None:
        """Stop the worker; queued requests are failed rather than left hanging."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        while self._queue is not None and not self._queue.empty():
            self._waiting.append(self._queue.get_nowait())
        for job in self._waiting:
            if not job.future.done():
                job.future.set_exception(RuntimeError("the service is shutting down"))
        self._waiting.clear()

    def _take(self, waiting: list[_Job]) -> list[_Job]:
        """Remove and return the next batch: the oldest job and later ones for the same model,
        within ``max_texts`` (the oldest always goes, even alone over the cap)."""
        first = waiting[0]
        batch, size = [first], len(first.texts)
        for job in waiting[1:]:
            if job.loaded is first.loaded and size + len(job.texts) <= self.max_texts:
                batch.append(job)
                size += len(job.texts)
        taken = {id(job) for job in batch}
        waiting[:] = [job for job in waiting if id(job) not in taken]
        return batch

    async def _run(self, queue: asyncio.Queue[_Job]) -> None:
        waiting = self._waiting
        while True:
            if not waiting:
                waiting.append(await queue.get())
            while not queue.empty():  # everything that arrived while the last batch computed
                waiting.append(queue.get_nowait())
            batch = self._take(waiting)
            try:
                await self._compute(batch)
            except asyncio.CancelledError:  # closing mid-batch: its callers get an answer too
                self._waiting.extend(batch)
                raise

    async def _compute(self, batch: list[_Job]) -> None:
        try:
            results = await asyncio.to_thread(self._run_batch, batch)
        except Exception as err:  # every waiting request gets the error, the worker goes on
            log.exception("a batch of %d requests failed", len(batch))
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(err)
            return
        for job, result in zip(batch, results, strict=True):
            if not job.future.done():  # a client that went away cancelled its future
                job.future.set_result(result)

    def _run_batch(self, batch: list[_Job]) -> list[Any]:
        """In the worker thread: the model on every text, each job's ``finish``, then ``commit``."""
        texts = [t for job in batch for t in job.texts]
        proba = batch[0].loaded.model.predict_proba(texts)
        results: list[Any] = []
        start = 0
        for job in batch:
            part = proba[start : start + len(job.texts)]
            results.append(job.finish(part) if job.finish is not None else part)
            start += len(job.texts)
        finished = [r for job, r in zip(batch, results, strict=True) if job.finish is not None]
        if finished and self.commit is not None:
            self.commit(finished)
        return results
