"""Dashboard statistics: predictions, negative share and feedback accuracy per hour, recent alerts.

``GET /v1/stats`` needs no admin key, on purpose. The dashboard is opened by the business owner
in a browser, and a key typed into a page ends up in its storage, its history or a screenshot;
the admin key stays for what can act or leak (model reload, the feedback export with the texts).
Stats only hold counts and rates, and the alerts without their ids; their messages name the
model, which ``GET /v1/model`` already shows to anyone. A deployment that must hide even these
puts the whole service behind its proxy's authentication.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy.orm import Session

from nlpops.serve.db import alerts_between, feedback_by_hour, predictions_by_hour, utcnow
from nlpops.serve.deps import DatabaseDep, HolderDep
from nlpops.serve.schemas import AlertSummary, HourStats, StatsResponse

router = APIRouter(prefix="/v1", tags=["stats"])
HOUR = timedelta(hours=1)
# Lower-cased names a use case gives its "bad" class (Sentiment140, airline tweets, Grand Débat).
NEGATIVE_NAMES: tuple[str, ...] = (
    "negative",
    "neg",
    "négatif",
    "negatif",
    "négative",
    "insatisfait",
    "dissatisfied",
)
NEGATIVE_NAMES += ("dissident",)  # dissidentIA: the dissatisfied sentences


def guess_negative_label(labels: Iterable[str]) -> str | None:
    """The label that means "negative", by name, or None when none looks like it.

    >>> guess_negative_label(["neutral", "Negative", "positive"])
    'Negative'
    """
    by_name = {label.lower(): label for label in labels}
    return next((by_name[name] for name in NEGATIVE_NAMES if name in by_name), None)


def floor_hour(moment: datetime) -> datetime:
    """The start of the UTC hour holding ``moment`` (naive datetimes are taken as UTC)."""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.replace(minute=0, second=0, microsecond=0)


def _parse_hour(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:00").replace(tzinfo=UTC)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _labels(model_classes: list[str], seen: Iterable[str]) -> list[str]:
    """The model's classes in its order, then labels only older models predicted."""
    return model_classes + sorted(set(seen) - set(model_classes))


def _buckets(
    since: datetime,
    hours: int,
    labels: list[str],
    negative: str | None,
    counts: dict[datetime, dict[str, int]],
    feedback: dict[datetime, tuple[int, int]],
) -> list[HourStats]:
    """One bucket per hour of the period, empty hours included, so charts keep a regular axis."""
    buckets = []
    for i in range(hours):
        hour = since + i * HOUR
        per_label = {label: counts.get(hour, {}).get(label, 0) for label in labels}
        total = sum(per_label.values())
        given, correct = feedback.get(hour, (0, 0))
        buckets.append(
            HourStats(
                hour=hour,
                predictions=per_label,
                total=total,
                negative_share=_ratio(per_label[negative], total) if negative else None,
                feedback=given,
                feedback_correct=correct,
                accuracy=_ratio(correct, given),
            )
        )
    return buckets


def _period(until: datetime, hours: int) -> tuple[datetime, datetime]:
    """(end, start) of ``hours`` whole hours ending with the hour of ``until``; 422 past year 1 or 9999."""
    try:
        end = floor_hour(until) + HOUR
        return end, end - hours * HOUR
    except OverflowError:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"until={until.isoformat()} with hours={hours} falls outside the years 1 to 9999",
        ) from None


@router.get("/stats", response_model=StatsResponse)
async def stats(
    database: DatabaseDep,
    holder: HolderDep,
    hours: Annotated[int, Query(ge=1, le=24 * 31, description="How many hours, ending now.")] = 48,
    until: Annotated[
        datetime | None, Query(description="End of the period instead of now (ISO 8601; naive = UTC).")
    ] = None,
    negative_label: Annotated[
        str | None, Query(description="The label to count as negative; guessed from the names if absent.")
    ] = None,
) -> StatsResponse:
    """Predictions per hour and label, negative share, feedback accuracy and alerts (no key needed)."""
    end, since = _period(until or utcnow(), hours)

    def read(session: Session) -> tuple[list[tuple[str, str, int]], list[tuple[str, int, int]], list[Any]]:
        return (
            predictions_by_hour(session, since, end),
            feedback_by_hour(session, since, end),
            [AlertSummary.model_validate(a) for a in alerts_between(session, since, end)],
        )

    by_hour, feedback_rows, alerts = await database.session(read)
    counts: dict[datetime, dict[str, int]] = defaultdict(dict)
    for hour, label, n in by_hour:
        counts[_parse_hour(hour)][label] = n
    feedback = {_parse_hour(h): (n, ok) for h, n, ok in feedback_rows}
    loaded = holder.current
    classes = [str(c) for c in loaded.model.classes_] if loaded else []
    labels = _labels(classes, (label for per_hour in counts.values() for label in per_hour))
    negative = negative_label if negative_label in labels else guess_negative_label(labels)
    buckets = _buckets(since, hours, labels, negative, counts, feedback)
    total = sum(b.total for b in buckets)
    given = sum(b.feedback for b in buckets)
    return StatsResponse(
        since=since,
        until=end,
        hours=hours,
        labels=labels,
        negative_label=negative,
        buckets=buckets,
        total_predictions=total,
        negative_share=_ratio(sum(b.predictions[negative] for b in buckets), total) if negative else None,
        total_feedback=given,
        accuracy=_ratio(sum(b.feedback_correct for b in buckets), given),
        alerts=alerts,
    )
