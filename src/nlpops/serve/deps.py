"""Dependencies shared by the routes, as ``Annotated`` aliases (tests swap them with overrides)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader
from sqlalchemy.orm import Session
from starlette.datastructures import State

from nlpops.serve.alerts import Alerter
from nlpops.serve.batcher import MicroBatcher
from nlpops.serve.db import Store
from nlpops.serve.metrics import Metrics
from nlpops.serve.model_holder import ModelHolder
from nlpops.serve.writer import PredictionWriter
from nlpops.settings import Settings
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


def get_session(
    store: Annotated[Store, Depends(get_store)], writer: Annotated[PredictionWriter, Depends(get_writer)]
) -> Iterator[Session]:
    """One session per request, closed (and rolled back if uncommitted) at the end.

    The prediction writer is flushed first, so a reader sees every prediction answered so far
    (feedback on a just-returned ``prediction_id`` finds it).
    """
    if not writer.flush():
        log.warning("the prediction writer did not flush in time; recent predictions may be missing")
    with store.session_factory() as session:
        yield session


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


async def require_admin(
    settings: Annotated[Settings, Depends(get_app_settings)],
    key: Annotated[str | None, Security(api_key_header)],
) -> None:
    """Let the request through only with header ``X-API-Key`` equal to the configured key."""
    if key is None or not secrets.compare_digest(key.encode(), settings.api_key.encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or wrong X-API-Key header; admin routes need the key set in NLPOPS_API_KEY",
        )


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
SessionDep = Annotated[Session, Depends(get_session)]
HolderDep = Annotated[ModelHolder, Depends(get_holder)]
ModelDep = Annotated[LoadedModel, Depends(get_model)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
AlerterDep = Annotated[Alerter, Depends(get_alerter)]
ServingDep = Annotated[Serving, Depends(get_serving)]
AdminDep = Depends(require_admin)
