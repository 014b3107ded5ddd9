"""POST /v1/feedback, the feedback export and the alert rule wired into the API."""

from __future__ import annotations

from typing import Any

import pytest
from api_support import ADMIN, FakeClock, RecordingChannel, predict_one
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from nlpops.serve.db import Alert, Feedback, Store
from nlpops.serve.dbcall import DatabaseCalls
from nlpops.serve.deps import get_database


def test_feedback_is_stored_then_201(client: TestClient, app: FastAPI) -> None:
    pid = predict_one(client)
    response = client.post("/v1/feedback", json={"prediction_id": pid, "correct": False, "label": "neg"})
    assert response.status_code == 201
    body = response.json()
    assert body["prediction_id"] == pid and body["correct"] is False and body["label"] == "neg"
    with app.state.store.session_factory() as session:
        row = session.get(Feedback, body["id"])
    assert row is not None and row.label == "neg" and row.correct is False


def test_feedback_unknown_prediction_is_404(client: TestClient) -> None:
    response = client.post("/v1/feedback", json={"prediction_id": "nope", "correct": True})
    assert response.status_code == 404
    assert "POST /v1/predict" in response.json()["detail"]


def test_feedback_label_outside_classes_is_422(client: TestClient) -> None:
    pid = predict_one(client)
    response = client.post("/v1/feedback", json={"prediction_id": pid, "correct": False, "label": "meh"})
    assert response.status_code == 422
    assert "['neg', 'pos']" in response.json()["detail"]


def test_a_label_that_contradicts_the_verdict_is_422(client: TestClient, app: FastAPI) -> None:
    answer = client.post("/v1/predict", json={"text": "I love this movie"}).json()["predictions"][0]
    pid, predicted = answer["prediction_id"], answer["label"]
    other = "neg" if predicted == "pos" else "pos"
    right = client.post("/v1/feedback", json={"prediction_id": pid, "correct": True, "label": other})
    assert right.status_code == 422
    assert f"predicted label {predicted!r} is right, but label is {other!r}" in right.json()["detail"]
    wrong = client.post("/v1/feedback", json={"prediction_id": pid, "correct": False, "label": predicted})
    assert wrong.status_code == 422 and "send the right label" in wrong.json()["detail"]
    with app.state.store.session_factory() as session:
        assert session.scalars(select(Feedback)).all() == []  # nothing stored for the export to take
    same = client.post("/v1/feedback", json={"prediction_id": pid, "correct": True, "label": predicted})
    assert same.status_code == 201 and same.json()["label"] == predicted  # says it twice, no contradiction


@pytest.mark.parametrize(
    "payload",
    [
        {"correct": True},
        {"prediction_id": "x"},
        {"prediction_id": "x", "correct": "maybe"},
        {"prediction_id": 1},
    ],
)
def test_feedback_bad_json_is_422(client: TestClient, payload: dict[str, Any]) -> None:
    assert client.post("/v1/feedback", json=payload).status_code == 422


def test_feedback_database_down_is_503_then_recovers(
    client: TestClient, app: FastAPI, down_store: Store
) -> None:
    pid = predict_one(client)
    down = DatabaseCalls(down_store, app.state.writer)
    app.dependency_overrides[get_database] = lambda: down
    response = client.post("/v1/feedback", json={"prediction_id": pid, "correct": True})
    assert response.status_code == 503
    assert "database is unavailable" in response.json()["detail"]
    assert response.headers["Retry-After"] == "2"
    app.dependency_overrides.clear()
    assert client.post("/v1/feedback", json={"prediction_id": pid, "correct": True}).status_code == 201


def test_third_incorrect_feedback_fires_one_alert(
    client: TestClient, app: FastAPI, clock: FakeClock, channel: RecordingChannel
) -> None:
    pids = [predict_one(client, f"text number {i}") for i in range(4)]
    for i, pid in enumerate(pids):  # the 3rd fires; the 4th falls in the cool-down
        assert client.post("/v1/feedback", json={"prediction_id": pid, "correct": False}).status_code == 201
        clock.advance(minutes=1)
        assert len(channel.sent) == (0 if i < 2 else 1)
    assert client.post("/v1/feedback", json={"prediction_id": pid, "correct": True}).status_code == 201
    with app.state.store.session_factory() as session:
        [alert] = session.scalars(select(Alert))
    assert alert.incorrect_count == 3 and alert.window_min == 5
    assert "3 incorrect feedbacks" in channel.sent[0][1]
    listed = client.get("/v1/alerts", headers=ADMIN).json()
    assert [a["id"] for a in listed] == [alert.id]
    assert "nlpops_alerts_fired_total 1.0" in client.get("/metrics").text


def test_one_prediction_flagged_again_and_again_counts_once(
    client: TestClient, clock: FakeClock, channel: RecordingChannel
) -> None:
    pid = predict_one(client)
    for _ in range(4):  # one user insisting on one prediction: one wrong prediction, not an incident
        assert client.post("/v1/feedback", json={"prediction_id": pid, "correct": False}).status_code == 201
        clock.advance(seconds=10)
    assert channel.sent == []
    assert 'nlpops_feedback_total{correct="false"} 1.0' in client.get("/metrics").text


def test_export_needs_the_key(client: TestClient) -> None:
    assert client.get("/v1/feedback").status_code == 401
    assert client.get("/v1/feedback", headers={"X-API-Key": "wrong"}).status_code == 401


def test_export_pages(client: TestClient) -> None:
    pids = [predict_one(client, f"text number {i}") for i in range(3)]
    for pid in pids:
        client.post("/v1/feedback", json={"prediction_id": pid, "correct": True})
    page = client.get("/v1/feedback", params={"limit": 2, "offset": 1}, headers=ADMIN).json()
    assert page["total"] == 3 and page["limit"] == 2 and page["offset"] == 1
    assert [item["prediction_id"] for item in page["items"]] == pids[1:]
    first = page["items"][0]
    assert first["text"] == "text number 1" and first["predicted_label"] in {"neg", "pos"}


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"offset": -1}, {"limit": "many"}])
def test_export_bad_paging_is_422(client: TestClient, params: dict[str, Any]) -> None:
    assert client.get("/v1/feedback", params=params, headers=ADMIN).status_code == 422
