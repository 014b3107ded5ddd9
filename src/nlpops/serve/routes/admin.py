"""Admin routes (header ``X-API-Key``): fired alerts and model reload."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from nlpops.errors import ModelLoadError
from nlpops.serve.db import Alert
from nlpops.serve.deps import AdminDep, DatabaseDep, HolderDep
from nlpops.serve.schemas import AlertPublic, ReloadResult

router = APIRouter(prefix="/v1", tags=["admin"], dependencies=[AdminDep])


@router.get("/alerts", response_model=list[AlertPublic])
async def list_alerts(
    database: DatabaseDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="How many, newest first.")] = 100,
) -> list[Alert]:
    """The alerts fired, newest first."""

    def newest(session: Session) -> list[Alert]:
        return list(session.scalars(select(Alert).order_by(Alert.created_at.desc()).limit(limit)))

    return await database.session(newest, flush=False)


@router.post(
    "/admin/reload",
    response_model=ReloadResult,
    responses={503: {"description": "The load failed; the previous model is still served"}},
)
def reload_model(holder: HolderDep) -> ReloadResult:
    """Load the model behind the configured URI now and swap it in (the old one serves meanwhile)."""
    try:
        outcome = holder.reload()
    except ModelLoadError as err:
        current = holder.current
        still = f"still serving version {current.version}" if current else "no model is served"
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"{err}; {still}") from err
    return ReloadResult(**vars(outcome))
