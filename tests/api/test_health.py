"""Health, readiness, metrics exposition, the OpenAPI spec and the 500 handler."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from api_support import predict_one
from fastapi import FastAPI
from fastapi.testclient import TestClient

from nlpops.serve.app import create_app
from nlpops.serve.db import Store
from nlpops.serve.deps import get_model, get_store
from nlpops.serve.model_holder import ModelHolder
from nlpops.settings import Settings
from nlpops.tracking import LoadedModel


def test_health(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "alive"}


def test_ready(client: TestClient) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"ready": True, "model_loaded": True, "database": True, "reason": None}


def test_not_ready_when_the_database_is_down(client: TestClient, app: FastAPI, down_store: Store) -> None:
    app.dependency_overrides[get_store] = lambda: down_store
    response = client.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["model_loaded"] and not body["database"]
    assert body["reason"].startswith("database unreachable (OperationalError")
    assert "127.0.0.1" not in response.text and "postgres" not in response.text  # no host, no user
    assert response.headers["Retry-After"] == "2"


def test_not_ready_without_a_model(settings: Settings, tmp_path: Path) -> None:
    def broken(uri: str, cache: Path | None) -> LoadedModel:
        raise FileNotFoundError(uri)

    holder = ModelHolder("models:/gone@champion", tmp_path, loader=broken, resolver=lambda uri: None)
    with TestClient(create_app(settings, holder=holder)) as client:
        response = client.get("/ready")
    assert response.status_code == 503
    assert response.json()["reason"] == "no model loaded from models:/gone@champion"


def test_metrics_exposition(client: TestClient) -> None:
    pid = predict_one(client, "I love this")
    client.post("/v1/feedback", json={"prediction_id": pid, "correct": True})
    client.post("/v1/predict", json={"text": ""})
    text = client.get("/metrics").text
    assert 'nlpops_http_requests_total{method="POST",route="/v1/predict",status="200"} 1.0' in text
    assert 'nlpops_http_requests_total{method="POST",route="/v1/predict",status="422"} 1.0' in text
    assert 'nlpops_http_request_duration_seconds_count{method="POST",route="/v1/feedback"} 1.0' in text
    assert 'nlpops_predictions_total{label="pos"} 1.0' in text
    assert 'nlpops_feedback_total{correct="true"} 1.0' in text
    assert 'nlpops_model_info{name="tiny",version=""} 1.0' in text
    assert "nlpops_alerts_fired_total 0.0" in text


def test_each_app_has_its_own_registry(settings: Settings) -> None:
    a, b = create_app(settings), create_app(settings)
    assert a.state.metrics.registry is not b.state.metrics.registry


def test_openapi_lists_the_routes_with_models(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in ["/v1/predict", "/v1/explain", "/v1/feedback", "/v1/model", "/v1/alerts", "/v1/admin/reload"]:
        assert path in paths, path
    ok = paths["/v1/predict"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["$ref"].endswith("/PredictResponse")
    assert "201" in paths["/v1/feedback"]["post"]["responses"]
    assert {"FeedbackCreate", "FeedbackPublic", "FeedbackPage", "AlertPublic"} <= set(
        spec["components"]["schemas"]
    )


class _Buggy:
    classes_ = np.array(["neg", "pos"])

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        raise RuntimeError("a real bug")


def test_a_bug_is_a_json_500(app: FastAPI) -> None:
    app.dependency_overrides[get_model] = lambda: LoadedModel(model=_Buggy(), name="buggy")  # type: ignore[arg-type]
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/v1/predict", json={"text": "hello"})
    assert response.status_code == 500
    assert "internal error" in response.json()["detail"]
