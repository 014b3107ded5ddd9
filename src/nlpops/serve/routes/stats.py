"""Dashboard statistics: predictions, negative share and feedback accuracy per hour, recent alerts.

``GET /v1/stats`` needs no admin key, on purpose. The dashboard is opened by the business owner
in a browser, and a key typed into a page ends up in its storage, its history or a screenshot;
the admin key stays for what can act or leak (model reload, the feedback export with the texts,
the example posts of the current window, which stats hold only for a caller with the key).
Stats hold counts, rates and top terms, and the alerts without their ids; their messages name the
model, which ``GET /v1/model`` already shows to anyone. A deployment that must hide even these
puts the whole service behind its proxy's authentication.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, HTTPException, Query, Request, Security, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from nlpops.models.target import guess_target, target_label
from nlpops.serve.db import Prediction, alerts_between, feedback_by_hour, predictions_by_hour, utcnow
from nlpops.serve.deps import DatabaseDep, HolderDep, SettingsDep, api_key_header
from nlpops.serve.routes.review import queue_size
from nlpops.serve.schemas import AlertSummary, DriftFeature, DriftStatus, HourStats, StatsResponse
from nlpops.settings import Settings

router = APIRouter(prefix="/v1", tags=["stats"])
HOUR = timedelta(hours=1)


def _target(loaded: Any, labels: list[str]) -> str | None:
    """The served model's target label; without a model, the label named like one."""
    return target_label(loaded.model) if loaded is not None else guess_target(labels)


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


def merge_days(buckets: list[HourStats], negative: str | None) -> list[HourStats]:
    """Hourly buckets summed per UTC day (a 30-day chart of 720 hourly bars is a 1 px line)."""
    days: dict[datetime, list[HourStats]] = {}
    for b in buckets:
        days.setdefault(b.hour.replace(hour=0), []).append(b)
    merged = []
    for day, group in days.items():
        labels = group[0].predictions.keys()
        per_label = {label: sum(b.predictions[label] for b in group) for label in labels}
        total, given = sum(per_label.values()), sum(b.feedback for b in group)
        correct = sum(b.feedback_correct for b in group)
        merged.append(
            HourStats(
                hour=day, predictions=per_label, total=total,
                negative_share=_ratio(per_label[negative], total) if negative else None,
                feedback=given, feedback_correct=correct, accuracy=_ratio(correct, given),
            )
        )  # fmt: skip
    return merged


def mark_spikes(buckets: list[HourStats], negative: str | None, settings: Settings) -> None:
    """Each bucket's baseline negative share, the share the live spike rule fires at, and whether it
    did (the rule of ``serve/spikes.py``, on these buckets)."""
    from scipy.stats import poisson

    from nlpops.watch.detect import SpikeDetector

    if negative is None or len(buckets) < 4:
        return
    detector = SpikeDetector(
        min(settings.spike_baseline_windows, len(buckets) - 1), settings.spike_threshold,
        settings.spike_min_volume, basis="share", min_history=3,
    )  # fmt: skip
    volumes = np.asarray([b.total for b in buckets], dtype=float)
    negatives = np.asarray([b.predictions.get(negative, 0) for b in buckets], dtype=float)
    expected, score = detector.scores(volumes, negatives)
    for i, b in enumerate(buckets):
        if np.isnan(expected[i]) or not b.total:
            continue
        b.baseline_share = float(expected[i] / b.total)
        fires_at = poisson.isf(10.0**-settings.spike_threshold, max(expected[i], 0.5)) + 1
        b.threshold_share = float(min(1.0, max(fires_at, settings.spike_min_volume) / b.total))
        b.spike = bool(score[i] >= settings.spike_threshold and negatives[i] >= settings.spike_min_volume)


def current_window(
    session: Session, negative: str | None, buckets: list[HourStats], end: datetime, include_batch: bool
) -> tuple[list[str], list[str]]:
    """Top terms of the negative posts of the last bucket against the period's earlier ones, and a few
    of those posts (as ``nlpops watch`` describes a spike)."""
    from nlpops.watch.detect import top_terms

    if negative is None or not buckets:
        return [], []
    start, since = buckets[-1].hour, buckets[0].hour

    def texts(lo: datetime, hi: datetime) -> list[str]:
        query = (
            select(Prediction.text)
            .where(Prediction.label == negative, Prediction.text.is_not(None))
            .where(Prediction.created_at >= lo, Prediction.created_at < hi)
            .order_by(Prediction.created_at.desc())
            .limit(2000)
        )
        if not include_batch:
            query = query.where(Prediction.origin == "live")
        return [str(t) for t in session.scalars(query)]

    now = texts(start, end)
    return top_terms(now, texts(since, start), k=10), now[:3]


@router.get("/stats", response_model=StatsResponse)
async def stats(
    database: DatabaseDep,
    holder: HolderDep,
    settings: SettingsDep,
    hours: Annotated[int, Query(ge=1, le=24 * 31, description="How many hours, ending now.")] = 48,
    until: Annotated[
        datetime | None, Query(description="End of the period instead of now (ISO 8601; naive = UTC).")
    ] = None,
    negative_label: Annotated[
        str | None, Query(description="The label to count as negative; guessed from the names if absent.")
    ] = None,
    bucket: Annotated[
        Literal["auto", "hour", "day"], Query(description="Bucket size; auto: days past 72 hours.")
    ] = "auto",
    include_batch: Annotated[
        bool,
        Query(
            description="Count the predictions of uploaded CSV files, and the feedback on them, too "
            "(left out by default)."
        ),
    ] = False,
    key: Annotated[str | None, Security(api_key_header)] = None,
) -> StatsResponse:
    """Predictions per bucket and label, negative share against its baseline and spike threshold,
    feedback accuracy, the current window's top terms, alerts, and the review queue's size."""
    end, since = _period(until or utcnow(), hours)
    by_day = bucket == "day" or (bucket == "auto" and hours > 72)

    def read(session: Session) -> tuple[Any, ...]:
        return (
            predictions_by_hour(session, since, end, include_batch),
            feedback_by_hour(session, since, end, include_batch),
            [AlertSummary.model_validate(a) for a in alerts_between(session, since, end)],
            queue_size(session),
        )

    by_hour, feedback_rows, alerts, review_size = await database.session(read)
    counts: dict[datetime, dict[str, int]] = defaultdict(dict)
    for hour, label, n in by_hour:
        counts[_parse_hour(hour)][label] = n
    feedback = {_parse_hour(h): (n, ok) for h, n, ok in feedback_rows}
    loaded = holder.current
    classes = [str(c) for c in loaded.model.classes_] if loaded else []
    labels = _labels(classes, (label for per_hour in counts.values() for label in per_hour))
    negative = negative_label if negative_label in labels else _target(loaded, labels)
    buckets = _buckets(since, hours, labels, negative, counts, feedback)
    if by_day:
        buckets = merge_days(buckets, negative)
    mark_spikes(buckets, negative, settings)
    terms, examples = await database.session(
        current_window, negative, buckets, end, include_batch, flush=False
    )
    shown = settings.api_key is not None and key is not None and secrets.compare_digest(key, settings.api_key)
    total = sum(b.total for b in buckets)
    given = sum(b.feedback for b in buckets)
    return StatsResponse(
        since=since,
        until=end,
        hours=hours,
        bucket="day" if by_day else "hour",
        labels=labels,
        negative_label=negative,
        buckets=buckets,
        total_predictions=total,
        negative_share=_ratio(sum(b.predictions[negative] for b in buckets), total) if negative else None,
        total_feedback=given,
        accuracy=_ratio(sum(b.feedback_correct for b in buckets), given),
        alerts=alerts,
        top_terms=terms,
        examples=examples if shown else [],
        examples_hidden=bool(examples) and not shown,
        review_queue=review_size,
    )


@router.get("/drift", response_model=DriftStatus)
async def drift_status(request: Request) -> DriftStatus:
    """The last live drift check of the served model's inputs (no key needed: aggregates only)."""
    monitor = request.app.state.drift_monitor
    report = monitor.last
    if report is None:
        return DriftStatus(checked_at=None, drift_detected=None, features=[], reason="no check has run yet")
    return DriftStatus(
        checked_at=monitor.checked_at,
        model_name=monitor.model_name,
        drift_detected=report.drift_detected,
        n_current=report.n_current,
        features=[
            DriftFeature(feature=f.feature, psi=f.psi, p_value=f.p_value, drifted=f.drifted)
            for f in report.features
        ],
        reason=report.reason or None,
    )
