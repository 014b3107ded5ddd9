"""The FastAPI app: ``create_app`` wires settings, store, model holder, metrics and routers."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import InterfaceError, OperationalError

from nlpops import __version__
from nlpops.alerts import channels_from_settings
from nlpops.serve.alerts import Alerter, AlertRule
from nlpops.serve.batcher import MicroBatcher
from nlpops.serve.db import Store
from nlpops.serve.dbcall import DATABASE_DOWN, DatabaseCalls, DatabaseUnavailableError
from nlpops.serve.drift_monitor import LiveDriftMonitor
from nlpops.serve.drift_monitor import monitor_forever as drift_monitor_forever
from nlpops.serve.errors import invalid_request
from nlpops.serve.explain import warm_saved, worker_ref
from nlpops.serve.fastpath import PredictFastPath
from nlpops.serve.limits import (
    BodyLimitMiddleware,
    BoundedPool,
    BusyError,
    FailureLimiter,
    SecurityHeadersMiddleware,
)
from nlpops.serve.metrics import Metrics, MetricsMiddleware
from nlpops.serve.model_holder import ModelHolder, poll_forever
from nlpops.serve.routes import admin, docs, feedback, health, pages, predict, review, skills, stats
from nlpops.serve.skills_slot import SkillsSlot
from nlpops.serve.spikes import LiveSpikeConfig, LiveSpikeMonitor, monitor_forever
from nlpops.serve.spool import Spool, SpoolFullError
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
    spool = Spool(settings.resolved_spool_dir(), settings.spool_max_bytes)
    app.state.writer = writer = PredictionWriter(store, spool)
    writer.start()  # what a stopped process left in the spool is stored first
    app.state.batcher.commit = lambda batches: app.state.writer.submit([r for rows in batches for r in rows])
    app.state.database = DatabaseCalls(store, writer, settings.db_timeout_s)
    app.state.metrics.watch_writer(writer)
    if holder.current is None:
        await asyncio.to_thread(holder.load_initial)
    ref = worker_ref(holder.current, settings.explain_processes)
    if ref is not None:
        app.state.explain_pool.warm(warm_saved, *ref)  # the first explanation then finds it loaded
    if app.state.skills.current is None:
        await asyncio.to_thread(app.state.skills.load)  # only when NLPOPS_SKILLS_MODEL_URI is set
    # Move the startup heap (libraries, the model) out of the collector's reach: a full collection
    # then scans only request garbage, instead of pausing every request for ~100 ms now and then.
    gc.collect()
    gc.freeze()
    poller = None
    if settings.reload_interval_s > 0:
        poller = asyncio.create_task(poll_forever(holder, settings.reload_interval_s))
    drift = None
    if settings.drift_interval_s > 0:
        drift = asyncio.create_task(
            drift_monitor_forever(
                app.state.drift_monitor, store.session_factory, holder, settings.drift_interval_s
            )
        )
    spikes = None
    if settings.spike_interval_s > 0:
        spikes = asyncio.create_task(monitor_forever(app.state.spike_monitor, store.session_factory, holder))
    yield
    for task in (spikes, drift):
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if poller is not None:
        poller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await poller
    await app.state.batcher.close()
    await asyncio.to_thread(app.state.explain_pool.close)  # a running explanation ends first
    app.state.database.close()
    # What the database has not taken yet stays in the spool for the next start.
    await asyncio.to_thread(writer.close, 5.0)
    store.close()


RETRY_AFTER_S = "2"  # a database outage: clients retry after this many seconds
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


async def _database_down(request: Request, exc: Exception) -> JSONResponse:
    log.warning("%s %s: database unavailable: %s", request.method, request.url.path, exc)
    if isinstance(exc, DatabaseUnavailableError):
        detail, retry_after = str(exc), exc.retry_after
    else:
        detail, retry_after = DATABASE_DOWN, RETRY_AFTER_S
    return JSONResponse(
        {"detail": detail},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": retry_after},
    )


async def _spool_full(request: Request, exc: Exception) -> JSONResponse:
    log.error("%s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(
        {"detail": f"{exc}; nothing was classified, retry later"},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": "30"},
    )


async def _busy(request: Request, exc: Exception) -> JSONResponse:
    retry = str(math.ceil(exc.retry_after_s)) if isinstance(exc, BusyError) else "1"
    return JSONResponse(
        {"detail": str(exc)}, status_code=status.HTTP_429_TOO_MANY_REQUESTS, headers={"Retry-After": retry}
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(
        {"detail": "internal error (a bug, logged on the server); the request can be retried"},
        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def create_app(
    settings: Settings | None = None,
    holder: ModelHolder | None = None,
    alerter: Alerter | None = None,
    skills_slot: SkillsSlot | None = None,
) -> FastAPI:
    """Build the API around the model at ``settings.model_uri`` (nothing is loaded until startup).

    Args:
        settings: defaults to the process settings (environment, ``NLPOPS_*``).
        holder: the model holder; tests pass one with a fake loader.
        alerter: the feedback alerter; tests pass one with a fake clock and channels.
        skills_slot: the skills model slot (default: ``settings.skills_model_uri``, loaded at startup).
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
        docs_url=None,  # routes/docs.py serves both offline
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.holder = holder
    app.state.skills = skills_slot or SkillsSlot(settings.skills_model_uri)
    app.state.metrics = metrics
    app.state.alerter = alerter or Alerter(
        AlertRule.from_settings(settings), channels_from_settings(settings)
    )
    app.state.batcher = MicroBatcher(settings.max_batch)
    app.state.explain_pool = BoundedPool(settings.explain_workers, settings.explain_queue, "explain")
    app.state.admin_failures = FailureLimiter(settings.admin_failures_per_min)
    app.state.spike_monitor = LiveSpikeMonitor(
        LiveSpikeConfig.from_settings(settings), app.state.alerter.channels
    )
    app.state.drift_monitor = LiveDriftMonitor(
        settings.drift_window, app.state.alerter.channels, timedelta(minutes=settings.alert_cooldown_min)
    )
    metrics.watch_drift(app.state.drift_monitor)
    # Outermost last: metrics count every answer, the headers go on every answer, and a body over
    # the limit is refused before the fast path or FastAPI reads it.
    if settings.speed_shortcuts:
        app.add_middleware(PredictFastPath)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeadersMiddleware, headers=SECURITY_HEADERS)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_exception_handler(RequestValidationError, invalid_request)
    for error in (OperationalError, InterfaceError, DatabaseUnavailableError):
        app.add_exception_handler(error, _database_down)
    app.add_exception_handler(SpoolFullError, _spool_full)
    app.add_exception_handler(BusyError, _busy)
    app.add_exception_handler(Exception, _unexpected)
    for module in (predict, feedback, review, admin, health, stats, pages, docs):
        app.include_router(module.router)
    if app.state.skills.uri:  # the skills API exists only where a skills model is configured
        app.include_router(skills.router)
    app.include_router(skills.page_router)
    app.mount("/static", StaticFiles(directory=pages.STATIC_DIR), name="static")
    app.mount(docs.ASSETS_URL, StaticFiles(directory=docs.ASSETS_DIR), name="docs-assets")
    return app
