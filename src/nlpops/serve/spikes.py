"""Live negative-share spike alert: the watch's :class:`SpikeDetector` on the API's stored predictions.

Every ``interval_s`` the monitor counts the stored predictions (all, and those of the negative class)
in the last complete window and the ``baseline_windows`` before it, and fires when the negative count
is far above the baseline's negative share times this window's volume (``basis="share"``: more
traffic alone is no spike). One alert per window; it is stored in the ``alerts`` table and sent to
the same channels as the feedback alert. Counting reads the database, so several workers agree.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from nlpops.alerts import Channel, send_to_all
from nlpops.models.target import target_label
from nlpops.serve.db import Alert, Prediction, utcnow
from nlpops.settings import Settings
from nlpops.watch.detect import Spike, SpikeDetector

log = logging.getLogger(__name__)
RULE = "negative_share_spike"


@dataclass(frozen=True)
class LiveSpikeConfig:
    """Thresholds of the live rule (see :class:`~nlpops.watch.detect.SpikeDetector`)."""

    window: timedelta = timedelta(minutes=5)
    baseline_windows: int = 24
    threshold: float = 5.0
    min_volume: int = 20
    interval_s: float = 60.0

    @classmethod
    def from_settings(cls, settings: Settings) -> LiveSpikeConfig:
        """The rule as the ``NLPOPS_SPIKE_*`` settings set it."""
        return cls(
            window=timedelta(minutes=settings.spike_window_min),
            baseline_windows=settings.spike_baseline_windows,
            threshold=settings.spike_threshold,
            min_volume=settings.spike_min_volume,
            interval_s=settings.spike_interval_s,
        )


def window_counts(
    session: Session, negative: str, starts: Sequence[datetime], window: timedelta
) -> tuple[list[int], list[int]]:
    """``(volumes, negatives)`` of the stored predictions in each window ``[start, start + window)``."""
    neg = func.coalesce(func.sum(case((Prediction.label == negative, 1), else_=0)), 0)
    volumes, negatives = [], []
    for start in starts:  # one indexed range count per window: portable across SQLite and PostgreSQL
        query = select(func.count(), neg).where(
            Prediction.created_at >= start, Prediction.created_at < start + window
        )
        volume, count = session.execute(query).one()
        volumes.append(int(volume))
        negatives.append(int(count))
    return volumes, negatives


class LiveSpikeMonitor:
    """Checks the last complete window of stored predictions; alerts once per spiking window."""

    def __init__(
        self, config: LiveSpikeConfig, channels: Sequence[Channel], clock: Callable[[], datetime] = utcnow
    ):
        self.config = config
        self.channels = list(channels)
        self.clock = clock
        self.detector = SpikeDetector(
            config.baseline_windows, config.threshold, config.min_volume, basis="share"
        )
        self._last_alerted: datetime | None = None
        self.unwatched: str | None = None  # the model with no target label, once warned about

    def window_starts(self) -> list[datetime]:
        """Starts of the baseline windows and of the last complete window (oldest first)."""
        width = self.config.window
        epoch = datetime(1970, 1, 1, tzinfo=self.clock().tzinfo)
        end = epoch + ((self.clock() - epoch) // width) * width
        return [end - (i + 1) * width for i in reversed(range(self.config.baseline_windows + 1))]

    def check(self, session: Session, negative: str, model_name: str) -> Spike | None:
        """Count, detect, and when the last window spikes (first time seen) store and send the alert."""
        starts = self.window_starts()
        volumes, negatives = window_counts(session, negative, starts, self.config.window)
        spikes = self.detector.detect_series(volumes, negatives, windows=list(range(len(starts))))
        if not spikes or spikes[-1].window != len(starts) - 1 or self._last_alerted == starts[-1]:
            return None
        spike, self._last_alerted = spikes[-1], starts[-1]
        spike.window = pd.Timestamp(starts[-1])
        minutes = self.config.window.total_seconds() / 60
        message = (
            f"{spike.observed} of {spike.volume} predictions of model {model_name} were {negative} in the "
            f"{minutes:g} min from {starts[-1]:%Y-%m-%d %H:%M} UTC; the baseline expects "
            f"{spike.expected:.1f} (score {spike.score:.1f}). A bad buzz may be starting: see GET /v1/stats."
        )
        session.add(Alert(created_at=self.clock(), rule=RULE, message=message,
                          incorrect_count=spike.observed, window_min=minutes))  # fmt: skip
        session.commit()
        send_to_all(self.channels, f"negative spike for {model_name}", message)
        return spike


def check_served_model(
    monitor: LiveSpikeMonitor, session_factory: Callable[[], Session], holder: Any
) -> None:
    """One check on the served model's target class (none: nothing to watch, said once)."""
    loaded = holder.current
    if loaded is None:
        return
    negative = target_label(loaded.model)
    if negative is None:
        if monitor.unwatched != loaded.name:
            log.warning("live spike rule off for %s: no class of it reads as the one to watch", loaded.name)
            monitor.unwatched = loaded.name
        return
    with session_factory() as session:
        monitor.check(session, negative, loaded.name)


async def monitor_forever(
    monitor: LiveSpikeMonitor, session_factory: Callable[[], Session], holder: Any
) -> None:
    """Run :func:`check_served_model` every ``interval_s`` (in a thread: it queries the database)."""
    while True:
        await asyncio.sleep(monitor.config.interval_s)
        try:
            await asyncio.to_thread(check_served_model, monitor, session_factory, holder)
        except Exception:
            log.exception("live spike check failed")
