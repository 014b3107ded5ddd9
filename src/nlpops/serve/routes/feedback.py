"""Feedback on predictions: users post verdicts, admins export them."""

from __future__ import annotations

import logging
import time
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, HTTPException, Query, status
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from nlpops.serve.alerts import Alerter
from nlpops.serve.db import Alert, Feedback, Prediction, upsert_verdict
from nlpops.serve.deps import AdminDep, AlerterDep, DatabaseDep, HolderDep, MetricsDep
from nlpops.serve.model_holder import ModelHolder
from nlpops.serve.schemas import FeedbackCreate, FeedbackExport, FeedbackPage, FeedbackPublic

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/feedback", tags=["feedback"])


# With several server processes, the prediction may sit for a few milliseconds in another worker's
# write-behind queue (serve/writer.py): look again briefly before answering 404.
RETRY_DELAYS_S = (0.01, 0.03, 0.1, 0.2)
MAX_OFFSET = 10**12  # far past any real export; PostgreSQL's OFFSET is a bigint (a larger one was a 500)


def stored_prediction(session: Session, prediction_id: str) -> Prediction | None:
    """The stored prediction, waiting up to ~0.35 s for one still being written."""
    for delay in (0.0, *RETRY_DELAYS_S):
        time.sleep(delay)
        session.rollback()  # a new transaction sees rows committed since the last look
        prediction = session.get(Prediction, prediction_id)
        if prediction is not None:
            return prediction
    return None


def check_label(holder: ModelHolder, label: str | None) -> None:
    """422 when ``label`` is given and is not one of the served model's classes."""
    loaded = holder.current
    classes = [str(c) for c in loaded.model.classes_] if loaded else []
    if label is not None and classes and label not in classes:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"label {label!r} is not one of the model's classes {classes}",
        )


def check_verdict(correct: bool, label: str | None, predicted: str) -> None:
    """422 when ``label`` contradicts ``correct``: the label is the right one for the text, so a right
    prediction can only name the predicted label, and a wrong one only another (the export would
    otherwise train on a label the verdict denies)."""
    if label is None:
        return
    if correct and label != predicted:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"correct is true, so the predicted label {predicted!r} is right, but label is {label!r}: "
            "send correct false with the right label, or correct true without a label",
        )
    if not correct and label == predicted:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"correct is false, so the predicted label {predicted!r} is wrong, but label names it: "
            "send the right label, or correct true",
        )


def store_feedback(
    session: Session, body: FeedbackCreate, model_name: str, alerter: Alerter
) -> tuple[Feedback, Alert | None, bool]:
    """Commit the verdict (404 for an unknown prediction, 422 for a label that contradicts it), then
    run the alert rule on it.

    Returns the stored verdict, the alert it fired, and whether it repeats the stored one (a
    double click): a repeat is not counted again on ``/metrics``, and the alert rule counts each
    prediction once in its window, so one user insisting is not an incident.
    """
    prediction = stored_prediction(session, body.prediction_id)
    if prediction is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"no prediction {body.prediction_id!r}; send a prediction_id returned by POST /v1/predict",
        )
    check_verdict(body.correct, body.label, prediction.label)
    before = session.execute(
        select(Feedback.correct, Feedback.label).where(Feedback.prediction_id == body.prediction_id)
    ).first()
    repeat = before is not None and tuple(before) == (body.correct, body.label)
    feedback = upsert_verdict(session, body.prediction_id, body.correct, body.label, source="user")
    alert = None
    if not body.correct:
        try:
            alert = alerter.on_incorrect(session, model_name, body.prediction_id)
        except SQLAlchemyError:
            session.rollback()
            log.exception("could not store the alert")
    return feedback, alert, repeat


@router.post(
    "",
    response_model=FeedbackPublic,
    status_code=status.HTTP_201_CREATED,
    responses={
        404: {"description": "Unknown prediction_id"},
        422: {"description": "Invalid body, a label outside the classes, or one the verdict contradicts"},
        503: {"description": "Database down or not answering in time (header Retry-After)"},
    },
)
async def create_feedback(
    body: FeedbackCreate,
    database: DatabaseDep,
    holder: HolderDep,
    metrics: MetricsDep,
    alerter: AlerterDep,
    background: BackgroundTasks,
) -> Feedback:
    """Record whether a prediction was right (201 once stored); incorrect ones feed the alert rule."""
    check_label(holder, body.label)
    loaded = holder.current
    model_name = loaded.name if loaded else holder.uri
    feedback, alert, repeat = await database.session(store_feedback, body, model_name, alerter)
    if not repeat:
        metrics.feedback.labels(correct=str(body.correct).lower()).inc()
    if alert is not None:
        metrics.alerts.inc()
        background.add_task(alerter.notify, f"nlpops: {alert.rule}", alert.message)
    return feedback


@router.get("", response_model=FeedbackPage, dependencies=[AdminDep])
async def export_feedback(
    database: DatabaseDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="Page size.")] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip.")] = 0,
) -> FeedbackPage:
    """Every verdict with its prediction, oldest first (admin; header ``X-API-Key``)."""
    return await database.session(feedback_page, limit, offset)


def feedback_page(session: Session, limit: int, offset: int) -> FeedbackPage:
    """One page of the feedback export."""
    total = session.scalar(select(func.count()).select_from(Feedback)) or 0
    query = (
        select(Feedback, Prediction)
        .join(Prediction, Feedback.prediction_id == Prediction.id)
        .order_by(Feedback.created_at, Feedback.id)
        .limit(limit)
        .offset(offset)
    )
    items = [
        FeedbackExport(
            id=fb.id,
            prediction_id=fb.prediction_id,
            correct=fb.correct,
            label=fb.label,
            created_at=fb.created_at,
            text=pred.text,
            text_sha256=pred.text_sha256,
            predicted_label=pred.label,
            probabilities=pred.probabilities,
            model_name=pred.model_name,
            model_version=pred.model_version,
        )
        for fb, pred in session.execute(query).tuples()
    ]
    return FeedbackPage(items=items, total=total, limit=limit, offset=offset)
