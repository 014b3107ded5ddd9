"""Liveness, readiness and Prometheus metrics (unversioned, for orchestrators and scrapers)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from fastapi.responses import JSONResponse

from nlpops.serve.dbcall import DatabaseUnavailableError
from nlpops.serve.deps import DatabaseDep, HolderDep, MetricsDep, StoreDep
from nlpops.serve.schemas import Health, Readiness

router = APIRouter(tags=["health"])


READY_TIMEOUT_S = 0.8  # /ready answers within a second, whatever the database does


@router.get("/health", response_model=Health)
async def health() -> Health:
    """The process is alive (says nothing about the model or the database)."""
    return Health()


@router.get("/ready", response_model=Readiness, responses={503: {"model": Readiness}})
async def ready(holder: HolderDep, store: StoreDep, database: DatabaseDep) -> Readiness | JSONResponse:
    """Ready when a model is loaded and the database answers; 503 with the reason otherwise.

    The reason never names the database's host, port or user (the server log does)."""
    try:
        db_problem = await database.call(store.check, timeout_s=READY_TIMEOUT_S)
    except DatabaseUnavailableError as err:
        db_problem = str(err).split(";")[0]
    model_loaded = holder.current is not None
    reasons = [r for r in (None if model_loaded else f"no model loaded from {holder.uri}", db_problem) if r]
    readiness = Readiness(
        ready=not reasons,
        model_loaded=model_loaded,
        database=db_problem is None,
        reason="; ".join(reasons) or None,
    )
    if reasons:
        return JSONResponse(
            readiness.model_dump(),
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "2"},
        )
    return readiness


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def metrics(metrics: MetricsDep) -> Response:
    """Prometheus text exposition of this app's metrics."""
    return metrics.exposition()
