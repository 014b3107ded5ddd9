"""Live drift: the served model's reference profile against its last stored predictions.

Every ``drift_interval_s`` the monitor reads the newest ``drift_window`` live predictions of the
served model version (batch uploads and the predictions of earlier versions left out: after a hot
reload, the old model's classes and confidences would be compared with the new model's profile)
with their texts and probabilities, and runs :func:`nlpops.drift.compare` on them
(the stored probabilities stand for the model's outputs: nothing is predicted again). The verdict is
kept for ``GET /v1/drift`` and the dashboard, exported on ``/metrics``
(``nlpops_drift_detected``, ``nlpops_drift_psi{feature}``), and when it turns to "drift" an alert is
stored and sent to the alert channels (once per ``cooldown``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from nlpops.alerts import Channel, send_to_all
from nlpops.drift import DriftReport, Profile, compare
from nlpops.models.base import predicted_labels
from nlpops.serve.db import Alert, Prediction, utcnow

log = logging.getLogger(__name__)
RULE = "input_drift"


def recent_live(
    session: Session, limit: int, model_name: str, model_version: str | None
) -> list[tuple[str, dict[str, float]]]:
    """(text, probabilities) of the newest ``limit`` live predictions of one model version that kept
    their text (a version of None matches the rows stored without one: a model served from a folder)."""
    version = (
        Prediction.model_version.is_(None)
        if model_version is None
        else Prediction.model_version == model_version
    )
    rows = session.execute(
        select(Prediction.text, Prediction.probabilities)
        .where(
            Prediction.origin == "live",
            Prediction.text.is_not(None),
            Prediction.model_name == model_name,
            version,
        )
        .order_by(Prediction.created_at.desc())
        .limit(limit)
    ).all()
    return [(str(text), dict(proba)) for text, proba in rows]


class LiveDriftMonitor:
    """Keeps the last verdict on the served model's inputs and alerts when drift starts."""

    def __init__(
        self,
        window: int,
        channels: Sequence[Channel],
        cooldown: timedelta,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.window = window
        self.channels = list(channels)
        self.cooldown = cooldown
        self.clock = clock
        self.last: DriftReport | None = None
        self.checked_at: datetime | None = None
        self.model_name: str | None = None
        self._alerted_at: datetime | None = None

    def check(self, session: Session, loaded: Any) -> DriftReport | None:
        """One verdict on the newest stored predictions of ``loaded`` (None without a profile)."""
        if loaded is None or loaded.folder is None:
            return None
        try:
            profile = Profile.load(loaded.folder)
        except FileNotFoundError:
            return None
        rows = recent_live(session, self.window, loaded.name, loaded.version)
        texts = [text for text, _ in rows]
        classes = [str(c) for c in loaded.model.classes_]
        proba = np.asarray([[p.get(c, 0.0) for c in classes] for _, p in rows], dtype=float)
        proba = proba.reshape(-1, len(classes))
        model_values = {
            "predicted_class": [str(c) for c in predicted_labels(loaded.model, proba)] if rows else [],
            "confidence": proba.max(axis=1).tolist() if rows else [],
        }
        report = compare(profile, loaded.model, texts, model_values=model_values)
        started = report.drift_detected and not (self.last and self.last.drift_detected)
        self.last, self.checked_at, self.model_name = report, self.clock(), loaded.name
        if started and (self._alerted_at is None or self.clock() - self._alerted_at >= self.cooldown):
            self._alert(session, report, loaded.name)
        return report

    def _alert(self, session: Session, report: DriftReport, model_name: str) -> None:
        drifted = [f for f in report.features if f.drifted]
        detail = ", ".join(f"{f.feature} (PSI {f.psi:.2f})" for f in drifted)
        message = (
            f"The last {report.n_current} texts sent to model {model_name} no longer look like its training "
            f"data: {detail}. Check the dashboard's drift panel, review the predictions, and consider "
            "retraining (nlpops retrain)."
        )
        session.add(Alert(created_at=self.clock(), rule=RULE, message=message,
                          incorrect_count=len(drifted), window_min=0.0))  # fmt: skip
        session.commit()
        self._alerted_at = self.clock()
        send_to_all(self.channels, f"input drift for {model_name}", message)


async def monitor_forever(
    monitor: LiveDriftMonitor, session_factory: Callable[[], Session], holder: Any, interval_s: float
) -> None:
    """Run :meth:`LiveDriftMonitor.check` every ``interval_s`` (in a thread: database and numpy)."""

    def once() -> None:
        with session_factory() as session:
            monitor.check(session, holder.current)

    while True:
        try:
            await asyncio.to_thread(once)
        except Exception:
            log.exception("live drift check failed")
        await asyncio.sleep(interval_s)
