"""Micro-batching: concurrent predict requests share one ``predict_proba`` call.

A single text costs a model far more than its share of a batch (scikit-learn's input checks, the
vectoriser and the classifier each run once per call). While one batch is computed, the requests
that arrive queue up; the next batch takes all of them (up to ``max_texts``). Under no load a request
is computed at once (no waiting for company); under load, batches grow by themselves.

The model computes in one worker thread, so the event loop keeps reading and answering requests.
Requests are only batched with requests for the same loaded model, so a hot reload never mixes models.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

import numpy as np

from nlpops.tracking import LoadedModel

log = logging.getLogger(__name__)


@dataclass
class _Job:
    loaded: LoadedModel
    texts: list[str]
    future: asyncio.Future[np.ndarray] = field(repr=False)


class MicroBatcher:
    """Gather concurrent ``predict`` calls into batched ``predict_proba`` calls.

    Args:
        max_texts: the most texts in one model call (a request larger than this runs alone).
    """

    def __init__(self, max_texts: int = 256) -> None:
        self.max_texts = max_texts
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
        future: asyncio.Future[np.ndarray] = asyncio.get_running_loop().create_future()
        self._ensure_started().put_nowait(_Job(loaded, texts, future))
        return await future

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
        texts = [t for job in batch for t in job.texts]
        try:
            proba = await asyncio.to_thread(batch[0].loaded.model.predict_proba, texts)
        except Exception as err:  # every waiting request gets the error, the worker goes on
            log.exception("predict_proba failed on a batch of %d texts", len(texts))
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(err)
            return
        start = 0
        for job in batch:
            if not job.future.done():  # a client that went away cancelled its future
                job.future.set_result(proba[start : start + len(job.texts)])
            start += len(job.texts)
