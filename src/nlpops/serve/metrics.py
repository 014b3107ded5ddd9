"""Prometheus metrics of one app, in a registry of its own (several apps per process in tests)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

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
            "nlpops_feedback", "Feedback by verdict.", ["correct"], registry=self.registry
        )
        self.alerts = Counter("nlpops_alerts_fired", "Alerts fired.", registry=self.registry)
        self.model_info = Gauge(
            "nlpops_model_info", "The model served (value 1).", ["name", "version"], registry=self.registry
        )

    def set_model(self, loaded: LoadedModel) -> None:
        """Point the info gauge at the model now served."""
        self.model_info.clear()
        self.model_info.labels(name=loaded.name, version=loaded.version or "").set(1)

    def exposition(self) -> Response:
        """The text exposition format, for ``GET /metrics``."""
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

    async def middleware(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Count and time every request under its route template (``/v1/predict``, not raw paths)."""
        start = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = getattr(request.scope.get("route"), "path", "unmatched")
            self.requests.labels(request.method, route, str(status)).inc()
            self.latency.labels(request.method, route).observe(time.perf_counter() - start)
