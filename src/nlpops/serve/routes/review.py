"""The review queue: a reviewer (admin key) confirms or corrects the predictions worth a look.

Predictions with negative feedback from users come first (newest first), then the least confident
recent predictions that nobody has judged. A reviewer's verdict replaces any earlier one on the
same prediction (one verdict per prediction: the last wins), and is exported for retraining by
``nlpops feedback export``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nlpops.serve.db import Feedback, Prediction, upsert_verdict, utcnow
from nlpops.serve.deps import AdminDep, DatabaseDep, HolderDep
from nlpops.serve.explain import occlusion_explain
from nlpops.serve.routes.feedback import check_verdict
from nlpops.serve.schemas import FeedbackPublic, ReviewItem, ReviewPage, ReviewVerdict, WordWeight

router = APIRouter(prefix="/v1/review", tags=["review"], dependencies=[AdminDep])
RECENT = timedelta(days=7)  # the least-confident part of the queue looks this far back
SCAN = 2000  # unjudged recent predictions ranked by confidence
LOW_CONFIDENCE = 0.6  # below it, an unjudged prediction counts in the queue's size


def _confidence(probabilities: dict[str, float]) -> float:
    return max(probabilities.values(), default=0.0)


def unjudged_recent(session: Session) -> list[Prediction]:
    """The newest ``SCAN`` predictions of the last ``RECENT`` that have no verdict."""
    return list(
        session.scalars(
            select(Prediction)
            .outerjoin(Feedback, Feedback.prediction_id == Prediction.id)
            .where(Feedback.id.is_(None), Prediction.created_at >= utcnow() - RECENT)
            .order_by(Prediction.created_at.desc())
            .limit(SCAN)
        )
    )


def review_candidates(session: Session, limit: int) -> list[tuple[Prediction, Feedback | None]]:
    """Negative user feedback not reviewed yet (newest first), then unjudged recent predictions by
    confidence, lowest first; at most ``limit``."""
    flagged = session.execute(
        select(Prediction, Feedback)
        .join(Feedback, Feedback.prediction_id == Prediction.id)
        .where(Feedback.correct.is_(False), Feedback.source == "user")
        .order_by(Feedback.created_at.desc())
        .limit(limit)
    ).all()
    items: list[tuple[Prediction, Feedback | None]] = [(p, f) for p, f in flagged]
    if len(items) < limit:
        ranked = sorted(unjudged_recent(session), key=lambda p: _confidence(p.probabilities))
        items += [(p, None) for p in ranked[: limit - len(items)]]
    return items


def queue_size(session: Session) -> int:
    """Negative user verdicts not reviewed yet, plus unjudged recent predictions under
    ``LOW_CONFIDENCE`` (of the last ``SCAN``)."""
    flagged = session.scalar(
        select(func.count())
        .select_from(Feedback)
        .where(Feedback.correct.is_(False), Feedback.source == "user")
    )
    return int(flagged or 0) + sum(
        _confidence(p.probabilities) < LOW_CONFIDENCE for p in unjudged_recent(session)
    )


@router.get("", response_model=ReviewPage)
async def review_queue(
    database: DatabaseDep,
    holder: HolderDep,
    limit: Annotated[int, Query(ge=1, le=100, description="How many items.")] = 20,
) -> ReviewPage:
    """The predictions to review, with the words that weighed on each (admin)."""
    rows, size = await database.session(lambda s: (review_candidates(s, limit), queue_size(s)))
    loaded = holder.current
    texts = [p.text or "" for p, _ in rows]
    explained: list[Any] = (
        await run_in_threadpool(occlusion_explain, loaded.model, texts)
        if loaded and texts
        else [None] * len(rows)
    )
    items = []
    for (prediction, feedback), explanation in zip(rows, explained, strict=True):
        words = [WordWeight(word=w, weight=v) for w, v in explanation[2]] if explanation else []
        items.append(
            ReviewItem(
                prediction_id=prediction.id,
                created_at=prediction.created_at,
                text=prediction.text,
                label=prediction.label,
                probabilities=prediction.probabilities,
                confidence=_confidence(prediction.probabilities),
                words=words,
                user_verdict=FeedbackPublic.model_validate(feedback) if feedback else None,
            )
        )
    classes = [str(c) for c in loaded.model.classes_] if loaded else []
    return ReviewPage(items=items, size=size, classes=classes)


@router.post("/{prediction_id}", response_model=FeedbackPublic)
async def review_verdict(
    body: ReviewVerdict,
    database: DatabaseDep,
    holder: HolderDep,
    prediction_id: Annotated[str, Path(max_length=36)],
) -> Feedback:
    """The reviewer's verdict: replaces any earlier one on this prediction (admin)."""
    loaded = holder.current
    classes = [str(c) for c in loaded.model.classes_] if loaded else []
    if body.label is not None and classes and body.label not in classes:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"label {body.label!r} is not one of the model's classes {classes}",
        )

    def store(session: Session) -> Feedback:
        prediction = session.get(Prediction, prediction_id)
        if prediction is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no prediction {prediction_id!r}")
        check_verdict(body.correct, body.label, prediction.label)
        return upsert_verdict(session, prediction_id, body.correct, body.label, source="review")

    feedback: Feedback = await database.session(store)
    return feedback
