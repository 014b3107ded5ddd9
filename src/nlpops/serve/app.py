"""The FastAPI app: ``create_app`` wires settings, store, model holder, metrics and routers."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import InterfaceError, OperationalError

from nlpops import __version__
from nlpops.serve.alerts import Alerter, AlertRule, channels_from_settings
from nlpops.serve.batcher import MicroBatcher
from nlpops.serve.db import Store
from nlpops.serve.fastpath import PredictFastPath
from nlpops.serve.metrics import Metrics, MetricsMiddleware
from nlpops.serve.model_holder import ModelHolder, poll_forever
from nlpops.serve.routes import admin, feedback, health, pages, predict, stats
from nlpops.serve.spikes import LiveSpikeConfig, LiveSpikeMonitor, monitor_forever
from nlpops.serve.writer import PredictionWriter
from nlpops.settings import Settings, get_settings

log = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the store (migrating it), load the model, poll the registry; undo it all on shutdown."""
    settings: Settings = app.state.settings
    holder: ModelHolder = app.state.holder
    app.state.store = store = Store(settings.database_url)
    await asyncio.to_thread(store.check)  # a database down now is retried by GET /ready
    app.state.writer = writer = PredictionWriter(store)
    writer.start()
    app.state.metrics.watch_writer(writer)
    if holder.current is None:
        await asyncio.to_thread(holder.load_initial)
    # Move the startup heap (libraries, the model) out of the collector's reach: a full collection
    # then scans only request garbage, instead of pausing every request for ~100 ms now and then.
    gc.collect()
    gc.freeze()
    poller = None
    if settings.reload_interval_s > 0:
        poller = asyncio.create_task(poll_forever(holder, settings.reload_interval_s))
    spikes = None
    if settings.spike_interval_s > 0:
        spikes = asyncio.create_task(monitor_forever(app.state.spike_monitor, store.session_factory, holder))
    yield
    if spikes is not None:
        spikes.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await spikes
    if poller is not None:
        poller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await poller
    await app.state.batcher.close()
    await asyncio.to_thread(writer.close)  # the queued predictions are written before the engine closes
    store.close()


async def _database_down(request: Request, exc: Exception) -> JSONResponse:
    log.warning("%s %s: database unavailable: %s", request.method, request.url.path, exc)
    return JSONResponse(
        {"detail": "the database is unavailable; nothing was stored, retry in a moment"},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(
        {"detail": "internal error (a bug, logged on the server); the request can be retried"},
        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def create_app(
    settings: Settings | None = None, holder: ModelHolder | None = None, alerter: Alerter | None = None
) -> FastAPI:
    """Build the API around the model at ``settings.model_uri`` (nothing is loaded until startup).

    Args:
        settings: defaults to the process settings (environment, ``NLPOPS_*``).
        holder: the model holder; tests pass one with a fake loader.
        alerter: the feedback alerter; tests pass one with a fake clock and channels.
    """
    settings = settings or get_settings()
    metrics = Metrics()
    holder = holder or ModelHolder(settings.model_uri, settings.model_cache_dir)
    holder.on_swap = metrics.set_model
    if holder.current is not None:
        metrics.set_model(holder.current)
    app = FastAPI(
        title="nlpops",
        version=__version__,
        description="Text classification with feedback, alerts, explanations and hot model reload.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.holder = holder
    app.state.metrics = metrics
    app.state.alerter = alerter or Alerter(
        AlertRule.from_settings(settings), channels_from_settings(settings)
    )
    app.state.batcher = MicroBatcher(settings.max_batch)
    app.state.spike_monitor = LiveSpikeMonitor(
        LiveSpikeConfig.from_settings(settings), app.state.alerter.channels
    )
    app.add_middleware(PredictFastPath)
    app.add_middleware(MetricsMiddleware, metrics=metrics)  # added last: outermost, counts both
    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(InterfaceError, _database_down)
    app.add_exception_handler(Exception, _unexpected)
    for module in (predict, feedback, admin, health, stats, pages):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=pages.STATIC_DIR), name="static")
    return app
