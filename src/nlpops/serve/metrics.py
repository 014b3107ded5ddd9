"""Prometheus metrics of one app, in a registry of its own (several apps per process in tests)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nlpops.tracking import LoadedModel


class Metrics:
    """The service's counters, histograms and gauges."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "nlpops_http_requests", "HTTP requests by route and status.",
            ["method", "route", "status"], registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "nlpops_http_request_duration_seconds", "Request latency by route.",
            ["method", "route"], registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
        )  # fmt: skip
        self.predictions = Counter(
            "nlpops_predictions", "Predictions by label.", ["label"], registry=self.registry
        )
        self.feedback = Counter(
            "nlpops_feedback",
            "Verdicts posted, by verdict (a repeat of the stored verdict is not counted; a changed one is: "
            "the stored verdicts, one per prediction, are in /v1/stats).",
            ["correct"],
            registry=self.registry,
        )
        self.alerts = Counter("nlpops_alerts_fired", "Alerts fired.", registry=self.registry)
        self.rows_pending = Gauge(
            "nlpops_prediction_rows_pending",
            "Prediction rows held in memory while the database is unreachable.",
            registry=self.registry,
        )
        self.rows_lost = Gauge(
            "nlpops_prediction_rows_lost", "Prediction rows dropped since startup.", registry=self.registry
        )
        self.drift_detected = Gauge(
            "nlpops_drift_detected",
            "1 when the last live drift check found drift, 0 when not, -1 before a verdict.",
            registry=self.registry,
        )
        self.drift_detected.set(-1)
        self.drift_psi = Gauge(
            "nlpops_drift_psi", "PSI of each feature at the last live drift check.", ["feature"],
            registry=self.registry,
        )  # fmt: skip
        self.model_info = Gauge(
            "nlpops_model_info", "The model served (value 1).", ["name", "version"], registry=self.registry
        )

    def set_model(self, loaded: LoadedModel) -> None:
        """Point the info gauge at the model now served."""
        self.model_info.clear()
        self.model_info.labels(name=loaded.name, version=loaded.version or "").set(1)

    def watch_writer(self, writer: Any) -> None:
        """Read the write-behind queue's held and dropped rows at each scrape."""
        self.rows_pending.set_function(lambda: writer.pending)
        self.rows_lost.set_function(lambda: writer.lost)

    def watch_drift(self, monitor: Any) -> None:
        """Export the drift monitor's last verdict at each scrape."""

        def detected() -> float:
            report = monitor.last
            return -1.0 if report is None or report.drift_detected is None else float(report.drift_detected)

        self.drift_detected.set_function(detected)
        self._drift_monitor = monitor

    def exposition(self) -> Response:
        """The text exposition format, for ``GET /metrics`` (the drift PSIs read at each scrape)."""
        monitor = getattr(self, "_drift_monitor", None)
        if monitor is not None and monitor.last is not None:
            for f in monitor.last.features:
                self.drift_psi.labels(feature=f.feature).set(f.psi)
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Count and time every request under its route template (``/v1/predict``, not raw paths).

    A plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` costs a task and a stream per request,
    which showed in the serving benchmark.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")  # set by the router on match
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.latency.labels(scope["method"], route).observe(time.perf_counter() - start)
