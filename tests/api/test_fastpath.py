"""The POST /v1/predict fast path: which requests it answers, and that its answers are the route's."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import Message

from nlpops.serve import fastpath
from nlpops.serve.deps import get_model


@pytest.fixture
def answered(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """One entry per request that reached the fast path: True when it answered it."""
    record: list[bool] = []
    real = fastpath._answer

    async def spy(app: Any, body: bytes) -> bytes | None:
        answer = await real(app, body)
        record.append(answer is not None)
        return answer

    monkeypatch.setattr(fastpath, "_answer", spy)
    return record


def _shape(body: dict[str, Any]) -> dict[str, Any]:
    """An answer without what differs from call to call (ids, latency)."""
    preds = [{k: v for k, v in p.items() if k != "prediction_id"} for p in body["predictions"]]
    return {"predictions": preds, "model_name": body["model_name"], "model_version": body["model_version"]}


def test_fast_path_answers_as_the_route_does(client: TestClient, app: FastAPI, answered: list[bool]) -> None:
    payload = {"texts": ["I love this movie", "awful, the worst"]}
    fast = client.post("/v1/predict", json=payload)
    assert answered == [True] and fast.status_code == 200
    assert fast.headers["content-type"] == "application/json"
    loaded = app.state.holder.current
    app.dependency_overrides[get_model] = lambda: loaded  # overrides send requests to the route
    routed = client.post("/v1/predict", json=payload)
    app.dependency_overrides.clear()
    assert answered == [True] and routed.status_code == 200
    assert _shape(fast.json()) == _shape(routed.json())
    assert [p["label"] for p in fast.json()["predictions"]] == ["pos", "neg"]
    metrics = client.get("/metrics").text
    assert 'nlpops_http_requests_total{method="POST",route="/v1/predict",status="200"} 2.0' in metrics
    assert 'nlpops_predictions_total{label="pos"} 2.0' in metrics


@pytest.mark.parametrize(
    ("content", "headers", "status"),
    [
        (b'{"text": "ok"', {"content-type": "application/json"}, 422),  # not JSON
        (b'{"text": "   "}', {"content-type": "application/json"}, 422),  # invalid
        (b'{"texts": ["a", "b", "c", "d", "e"]}', {"content-type": "application/json"}, 413),
        (json.dumps({"text": "x" * 201}).encode(), {"content-type": "application/json"}, 413),
        (b'{"text": "fine"}', {"content-type": "text/plain"}, 422),  # FastAPI's call on the type
    ],
)
def test_what_the_fast_path_cannot_answer_gets_fastapis_answer(
    client: TestClient, answered: list[bool], content: bytes, headers: dict[str, str], status: int
) -> None:
    response = client.post("/v1/predict", content=content, headers=headers)
    assert response.status_code == status, response.text
    assert "detail" in response.json()
    assert True not in answered


def test_a_body_over_the_limit_is_replayed_to_the_route(
    client: TestClient, answered: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fastpath, "MAX_BODY", 10)
    response = client.post("/v1/predict", json={"texts": ["I love this movie", "the worst"]})
    assert response.status_code == 200 and answered == []  # never reached _answer
    assert [p["label"] for p in response.json()["predictions"]] == ["pos", "neg"]


def test_split_sentences_goes_to_the_route(client: TestClient, answered: list[bool]) -> None:
    response = client.post("/v1/predict", json={"text": "I love it. The worst.", "split_sentences": True})
    assert response.status_code == 200 and answered == [False]
    assert len(response.json()["predictions"][0]["sentences"]) == 2


def test_a_body_in_several_messages_is_read_whole(client: TestClient, app: FastAPI) -> None:
    """uvicorn hands a large or chunked body over in pieces; the fast path joins them."""
    chunks = [b'{"texts": ["I love ', b'this movie"]', b"}"]
    messages: list[Message] = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    async def never_called(*_: Any) -> None:
        raise AssertionError("the request should not reach the app")

    scope = {
        "type": "http", "method": "POST", "path": "/v1/predict", "app": app,
        "headers": [(b"content-type", b"application/json; charset=utf-8")],
    }  # fmt: skip
    assert client.portal is not None
    client.portal.call(fastpath.PredictFastPath(never_called), scope, receive, send)
    assert sent[0]["status"] == 200
    assert json.loads(sent[1]["body"])["predictions"][0]["label"] == "pos"


def test_a_model_failure_is_a_500_counted_under_the_route(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(texts: list[str]) -> Any:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as failing:
        monkeypatch.setattr(app.state.holder.current.model, "predict_proba", broken)
        response = failing.post("/v1/predict", json={"text": "I love this movie"})
        assert response.status_code == 500 and "internal error" in response.json()["detail"]
        metrics = failing.get("/metrics").text
    assert 'nlpops_http_requests_total{method="POST",route="/v1/predict",status="500"} 1.0' in metrics
