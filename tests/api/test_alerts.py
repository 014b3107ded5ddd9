"""The alert rule with a fake clock, and its channels (webhook on a real local server, e-mail, log)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import httpx
import pytest
from api_support import FakeClock, RecordingChannel

from nlpops import alerts
from nlpops.alerts import EmailChannel, LogChannel, WebhookChannel, channels_from_settings
from nlpops.serve.alerts import Alerter, AlertRule
from nlpops.settings import Settings


@pytest.fixture
def rule(clock: FakeClock) -> AlertRule:
    return AlertRule(3, timedelta(minutes=5), timedelta(minutes=30), clock=clock)


def _fires(rule: AlertRule, clock: FakeClock, gaps_min: list[float]) -> list[bool]:
    """Record an incorrect feedback after each gap; which of them fired."""
    fired = []
    for gap in gaps_min:
        clock.advance(minutes=gap)
        fired.append(rule.record_incorrect() is not None)
    return fired


def test_fires_at_the_third_within_the_window(rule: AlertRule, clock: FakeClock) -> None:
    assert _fires(rule, clock, [0, 1, 1]) == [False, False, True]


def test_quiet_during_the_cooldown_then_fires_again(rule: AlertRule, clock: FakeClock) -> None:
    assert _fires(rule, clock, [0, 1, 1, 1, 1, 1]) == [False, False, True, False, False, False]
    # 30 min after the alert (at minute 2), three new ones in the window fire again
    assert _fires(rule, clock, [26, 0.5, 0.5]) == [False, False, True]


def test_old_feedback_slides_out_of_the_window(rule: AlertRule, clock: FakeClock) -> None:
    assert _fires(rule, clock, [0, 4, 2]) == [False, False, False]  # the first is 6 min old
    assert _fires(rule, clock, [0.5]) == [True]


def test_the_window_edge_is_exclusive(rule: AlertRule, clock: FakeClock) -> None:
    assert _fires(rule, clock, [0, 2.5, 2.5]) == [False, False, False]


def test_a_prediction_counts_once_in_the_window(rule: AlertRule, clock: FakeClock) -> None:
    assert [rule.record_incorrect("p1") for _ in range(3)] == [None, None, None]
    assert rule.record_incorrect("p2") is None
    assert rule.record_incorrect("p3") == 3
    clock.advance(minutes=6)  # p1 slid out: it counts again
    assert rule.record_incorrect("p1") is None and len(rule._times) == 1


def test_rule_reads_the_settings(clock: FakeClock) -> None:
    settings = Settings(_env_file=None, alert_min_incorrect=2, alert_window_min=1, alert_cooldown_min=10)
    rule = AlertRule.from_settings(settings, clock)
    assert (rule.min_incorrect, rule.window, rule.cooldown) == (
        2,
        timedelta(minutes=1),
        timedelta(minutes=10),
    )


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append(json.loads(body))
        self.send_response(204 if "ok" in self.path else 500)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook_server() -> Iterator[str]:
    _Hook.received = []
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_webhook_posts_json_to_a_real_server(webhook_server: str) -> None:
    WebhookChannel(f"{webhook_server}/ok").send("subject", "3 incorrect")
    assert _Hook.received == [{"subject": "subject", "message": "3 incorrect"}]


def test_webhook_raises_on_an_error_status(webhook_server: str) -> None:
    with pytest.raises(httpx.HTTPStatusError):
        WebhookChannel(f"{webhook_server}/fail").send("s", "m")


def test_webhook_with_a_mock_transport() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    transport = httpx.MockTransport(handler)
    WebhookChannel("http://hooks.invalid/x", transport=transport).send("s", "m")
    assert seen[0].method == "POST" and json.loads(seen[0].content) == {"subject": "s", "message": "m"}


class _FakeSMTP:
    sent: ClassVar[list[EmailMessage]] = []

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.address = (host, port)

    def __enter__(self) -> _FakeSMTP:
        return self

    def __exit__(self, *args: object) -> None:
        pass

    def send_message(self, mail: EmailMessage) -> None:
        self.sent.append(mail)


def test_email_goes_to_every_recipient(monkeypatch: pytest.MonkeyPatch) -> None:
    _FakeSMTP.sent = []
    monkeypatch.setattr(alerts.smtplib, "SMTP", _FakeSMTP)
    EmailChannel("smtp.local", 25, "bot@x", ["a@x", "b@x"]).send("drift", "3 incorrect")
    [mail] = _FakeSMTP.sent
    assert mail["To"] == "a@x, b@x" and mail["Subject"] == "drift"
    assert "3 incorrect" in mail.get_content()


def test_log_channel(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        LogChannel().send("drift", "3 incorrect")
    assert "ALERT drift: 3 incorrect" in caplog.text


def test_a_failing_channel_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    good = RecordingChannel()
    broken = WebhookChannel("http://127.0.0.1:1/nowhere", timeout_s=1)
    Alerter(AlertRule(1, timedelta(minutes=1), timedelta(0)), [broken, good]).notify("s", "m")
    assert good.sent == [("s", "m")]
    assert "alert channel WebhookChannel failed" in caplog.text


def test_channels_from_settings() -> None:
    bare = Settings(_env_file=None)
    assert [type(c) for c in channels_from_settings(bare)] == [LogChannel]
    full = bare.model_copy(
        update={"alert_webhook_url": "http://h/x", "smtp_host": "smtp", "alert_emails": ["a@x"]}
    )
    assert [type(c) for c in channels_from_settings(full)] == [LogChannel, WebhookChannel, EmailChannel]
