"""Where alerts go: the service log, a webhook (a Slack/Teams relay), e-mail.

Shared by the service's rules (feedback, live spikes, drift) and by ``nlpops watch``, so it sits
below both: neither imports the other to reach a channel.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from email.message import EmailMessage
from typing import Protocol

import httpx

from nlpops.settings import Settings

log = logging.getLogger(__name__)


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
