"""Dependencies shared by the routes, as ``Annotated`` aliases (tests swap them with overrides)."""

from __future__ import annotations

import logging
import math
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader
from starlette.datastructures import State

from nlpops.serve.alerts import Alerter
from nlpops.serve.batcher import MicroBatcher
from nlpops.serve.db import Store
from nlpops.serve.dbcall import DatabaseCalls
from nlpops.serve.limits import FailureLimiter
from nlpops.serve.metrics import Metrics
from nlpops.serve.model_holder import ModelHolder
from nlpops.serve.writer import PredictionWriter
from nlpops.settings import MIN_API_KEY_CHARS, Settings
from nlpops.tracking import LoadedModel

log = logging.getLogger(__name__)
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="The admin key.")


# The getters are ``async def`` so that FastAPI calls them inline: a plain ``def`` dependency is run
# in the thread pool, a hop that cost measurable time per request in the serving benchmark.
async def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


async def get_store(request: Request) -> Store:
    """The database store (engine + session factory)."""
    store: Store = request.app.state.store
    return store


async def get_writer(request: Request) -> PredictionWriter:
    """The write-behind queue of predictions."""
    writer: PredictionWriter = request.app.state.writer
    return writer


@dataclass(frozen=True)
class Serving:
    """What a prediction needs besides the model, read off the app's state in one step (one
    dependency to solve per request rather than four: that solving showed in the profile)."""

    settings: Settings
    metrics: Metrics
    batcher: MicroBatcher  # shares ``predict_proba`` calls between concurrent requests
    writer: PredictionWriter  # the write-behind queue of predictions

    @classmethod
    def of(cls, state: State) -> Serving:
        """The serving parts of a started app's ``state``."""
        return cls(state.settings, state.metrics, state.batcher, state.writer)


async def get_serving(request: Request) -> Serving:
    """Settings, metrics, batcher and writer of the app."""
    return Serving.of(request.app.state)


async def get_database(request: Request) -> DatabaseCalls:
    """The database calls of requests, with their deadline (``serve/dbcall.py``)."""
    database: DatabaseCalls = request.app.state.database
    return database


async def get_holder(request: Request) -> ModelHolder:
    """The holder of the served model."""
    holder: ModelHolder = request.app.state.holder
    return holder


async def get_model(holder: Annotated[ModelHolder, Depends(get_holder)]) -> LoadedModel:
    """The model for this request: read once, so a reload mid-request does not change it."""
    loaded = holder.current
    if loaded is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"no model loaded yet from {holder.uri}; check the logs and GET /ready, or POST /v1/admin/reload",
        )
    return loaded


async def get_metrics(request: Request) -> Metrics:
    """The app's Prometheus metrics."""
    metrics: Metrics = request.app.state.metrics
    return metrics


async def get_alerter(request: Request) -> Alerter:
    """The feedback alerter."""
    alerter: Alerter = request.app.state.alerter
    return alerter


ADMIN_OFF = (
    "the admin routes are off: no admin key is configured; set NLPOPS_API_KEY (at least "
    f"{MIN_API_KEY_CHARS} characters) and restart the service"
)


async def require_admin(
    request: Request,
    settings: Annotated[Settings, Depends(get_app_settings)],
    key: Annotated[str | None, Security(api_key_header)],
) -> None:
    """Let the request through only with header ``X-API-Key`` equal to the configured key.

    No key configured: the admin routes are off (403), never open with a default. A client that
    sends wrong keys too often is refused for a while (429), so a key cannot be guessed online.
    """
    if settings.api_key is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, ADMIN_OFF)
    limiter: FailureLimiter = request.app.state.admin_failures
    client = request.client.host if request.client else "?"
    wait_s = limiter.blocked_for(client)
    if wait_s > 0:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "too many wrong admin keys from this client; wait before trying again",
            headers={"Retry-After": str(math.ceil(wait_s))},
        )
    if key is None or not secrets.compare_digest(key.encode(), settings.api_key.encode()):
        limiter.fail(client)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or wrong X-API-Key header; admin routes need the key set in NLPOPS_API_KEY",
        )


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
DatabaseDep = Annotated[DatabaseCalls, Depends(get_database)]
HolderDep = Annotated[ModelHolder, Depends(get_holder)]
ModelDep = Annotated[LoadedModel, Depends(get_model)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
AlerterDep = Annotated[Alerter, Depends(get_alerter)]
ServingDep = Annotated[Serving, Depends(get_serving)]
AdminDep = Depends(require_admin)
