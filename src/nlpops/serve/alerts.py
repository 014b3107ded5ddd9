"""The feedback alert: too many "incorrect" verdicts in a short window means the model drifts.

:class:`AlertRule` is pure (an injectable clock, no I/O) so it is tested with a fake clock;
:class:`Alerter` stores what the rule fires in the ``alerts`` table and sends it to its channels
(``nlpops.alerts``: log, webhook, e-mail). A channel that fails is logged and never breaks the request.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from nlpops.alerts import Channel, send_to_all
from nlpops.serve.db import Alert, utcnow
from nlpops.settings import Settings

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


class AlertRule:
    """Fire when at least ``min_incorrect`` predictions are judged incorrect in a sliding window.

    A prediction counts once in the window however often its verdict is posted (one verdict per
    prediction: a user clicking "incorrect" three times is one wrong prediction, not an incident).
    After firing, the rule stays quiet for ``cooldown`` (one alert per incident, not one per
    feedback). State is per process: with several workers each counts its own feedback.

    >>> from datetime import UTC
    >>> now = datetime(2024, 1, 1, tzinfo=UTC)
    >>> rule = AlertRule(2, timedelta(minutes=5), timedelta(minutes=30), clock=lambda: now)
    >>> rule.record_incorrect("p1"), rule.record_incorrect("p1"), rule.record_incorrect("p2")
    (None, None, 2)
    """

    name = "incorrect_feedback"

    def __init__(self, min_incorrect: int, window: timedelta, cooldown: timedelta, clock: Clock = utcnow):
        self.min_incorrect = min_incorrect
        self.window = window
        self.cooldown = cooldown
        self.clock = clock
        self._times: deque[tuple[datetime, str | None]] = deque()
        self._last_fired: datetime | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock = utcnow) -> AlertRule:
        """The rule with the thresholds of ``settings``."""
        return cls(
            settings.alert_min_incorrect,
            timedelta(minutes=settings.alert_window_min),
            timedelta(minutes=settings.alert_cooldown_min),
            clock,
        )

    def record_incorrect(self, prediction_id: str | None = None) -> int | None:
        """Count an incorrect verdict on ``prediction_id`` now (already counted in the window: ignored);
        returns the count in the window when the rule fires."""
        with self._lock:
            now = self.clock()
            while self._times and self._times[0][0] <= now - self.window:
                self._times.popleft()
            if prediction_id is not None and any(pid == prediction_id for _, pid in self._times):
                return None
            self._times.append((now, prediction_id))
            if len(self._times) < self.min_incorrect:
                return None
            if self._last_fired is not None and now - self._last_fired < self.cooldown:
                return None
            self._last_fired = now
            return len(self._times)


class Alerter:
    """Evaluates the rule on each incorrect feedback, stores fired alerts and notifies channels."""

    def __init__(self, rule: AlertRule, channels: Sequence[Channel]):
        self.rule = rule
        self.channels = list(channels)

    def on_incorrect(
        self, session: Session, model_name: str, prediction_id: str | None = None
    ) -> Alert | None:
        """Record an incorrect verdict on ``prediction_id``; when the rule fires, store the alert and
        return it."""
        count = self.rule.record_incorrect(prediction_id)
        if count is None:
            return None
        window_min = self.rule.window.total_seconds() / 60
        alert = Alert(
            created_at=self.rule.clock(),
            rule=self.rule.name,
            message=(
                f"{count} incorrect feedbacks in the last {window_min:g} min for model {model_name}; "
                "review them on the service's /review page (admin key), then retrain with nlpops retrain."
            ),
            incorrect_count=count,
            window_min=window_min,
        )
        session.add(alert)
        session.commit()
        return alert

    def notify(self, subject: str, message: str) -> None:
        """Send to every channel; a failing channel is logged and the others still run."""
        send_to_all(self.channels, subject, message)
