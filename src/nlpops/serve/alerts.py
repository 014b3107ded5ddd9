"""The feedback alert: too many "incorrect" verdicts in a short window means the model drifts.

:class:`AlertRule` is pure (an injectable clock, no I/O) so it is tested with a fake clock;
:class:`Alerter` stores what the rule fires in the ``alerts`` table and sends it to its channels
(log, webhook, e-mail). A channel that fails is logged and never breaks the request.
"""

from __future__ import annotations

import logging
import smtplib
import threading
from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Protocol

import httpx
from sqlalchemy.orm import Session

from nlpops.serve.db import Alert, utcnow
from nlpops.settings import Settings

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


class AlertRule:
    """Fire when at least ``min_incorrect`` incorrect feedbacks fall in a sliding window.

    After firing, the rule stays quiet for ``cooldown`` (one alert per incident, not one per
    feedback). State is per process: with several workers each counts its own feedback.

    >>> from datetime import UTC
    >>> now = datetime(2024, 1, 1, tzinfo=UTC)
    >>> rule = AlertRule(2, timedelta(minutes=5), timedelta(minutes=30), clock=lambda: now)
    >>> rule.record_incorrect(), rule.record_incorrect()
    (None, 2)
    """

    name = "incorrect_feedback"

    def __init__(self, min_incorrect: int, window: timedelta, cooldown: timedelta, clock: Clock = utcnow):
        self.min_incorrect = min_incorrect
        self.window = window
        self.cooldown = cooldown
        self.clock = clock
        self._times: deque[datetime] = deque()
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

    def record_incorrect(self) -> int | None:
        """Count one incorrect feedback now; returns the count in the window when the rule fires."""
        with self._lock:
            now = self.clock()
            self._times.append(now)
            while self._times and self._times[0] <= now - self.window:
                self._times.popleft()
            if len(self._times) < self.min_incorrect:
                return None
            if self._last_fired is not None and now - self._last_fired < self.cooldown:
                return None
            self._last_fired = now
            return len(self._times)


class Channel(Protocol):
    """Somewhere an alert is sent."""

    def send(self, subject: str, message: str) -> None:
        """Deliver one alert; may raise (the alerter logs it)."""


class LogChannel:
    """Write the alert to the service log (always on)."""

    def send(self, subject: str, message: str) -> None:
        """Log at WARNING level."""
        log.warning("ALERT %s: %s", subject, message)


class WebhookChannel:
    """POST the alert as JSON (``{"subject", "message"}``) to a URL, e.g. a Slack/Teams relay."""

    def __init__(self, url: str, transport: httpx.BaseTransport | None = None, timeout_s: float = 5.0):
        self.url = url
        self.transport = transport
        self.timeout_s = timeout_s

    def send(self, subject: str, message: str) -> None:
        """POST and raise on a non-2xx answer."""
        with httpx.Client(transport=self.transport, timeout=self.timeout_s) as client:
            client.post(self.url, json={"subject": subject, "message": message}).raise_for_status()


class EmailChannel:
    """Send the alert by SMTP to a list of addresses."""

    def __init__(self, host: str, port: int, sender: str, recipients: Sequence[str], timeout_s: float = 10.0):
        self.host, self.port, self.sender = host, port, sender
        self.recipients = list(recipients)
        self.timeout_s = timeout_s

    def send(self, subject: str, message: str) -> None:
        """One e-mail to every recipient."""
        mail = EmailMessage()
        mail["Subject"], mail["From"], mail["To"] = subject, self.sender, ", ".join(self.recipients)
        mail.set_content(message)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
            smtp.send_message(mail)


def channels_from_settings(settings: Settings) -> list[Channel]:
    """Log always; webhook and e-mail when they are configured."""
    channels: list[Channel] = [LogChannel()]
    if settings.alert_webhook_url:
        channels.append(WebhookChannel(settings.alert_webhook_url))
    if settings.smtp_host and settings.alert_emails:
        channels.append(
            EmailChannel(settings.smtp_host, settings.smtp_port, settings.smtp_sender, settings.alert_emails)
        )
    return channels


def send_to_all(channels: Sequence[Channel], subject: str, message: str) -> None:
    """Send one alert on every channel; a failing channel is logged and the others still run."""
    for channel in channels:
        try:
            channel.send(subject, message)
        except Exception:
            log.exception("alert channel %s failed", type(channel).__name__)


class Alerter:
    """Evaluates the rule on each incorrect feedback, stores fired alerts and notifies channels."""

    def __init__(self, rule: AlertRule, channels: Sequence[Channel]):
        self.rule = rule
        self.channels = list(channels)

    def on_incorrect(self, session: Session, model_name: str) -> Alert | None:
        """Record an incorrect feedback; when the rule fires, store the alert and return it."""
        count = self.rule.record_incorrect()
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
