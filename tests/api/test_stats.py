"""GET /v1/stats: hourly aggregates computed in SQL, on SQLite and on the real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from nlpops.serve.app import create_app
from nlpops.serve.db import Alert, Feedback, Prediction, new_id
from nlpops.serve.routes.stats import floor_hour
from nlpops.settings import Settings

UNTIL = "2024-01-01T12:30:00Z"  # the last bucket is 12:00-13:00 UTC
T = datetime(2024, 1, 1, tzinfo=UTC)


def _at(hour: int, minute: int = 0) -> datetime:
    return T + timedelta(hours=hour, minutes=minute)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def stats_client(request: pytest.FixtureRequest, settings: Settings) -> Iterator[TestClient]:
    """The app on SQLite (tmp_path) or on a PostgreSQL schema of its own."""
    if request.param == "postgresql":
        # sessions in UTC+05:30, so a wrong hour bucket shows
        url = request.getfixturevalue("pg_schema_url") + "%20-cTimeZone%3DAsia/Kolkata"
        settings = settings.model_copy(update={"database_url": url})
    with TestClient(create_app(settings)) as client:
        yield client


def _add(client: TestClient, *rows: Any) -> None:
    app: Any = client.app
    with app.state.store.session_factory() as session:
        session.add_all(rows)
        session.commit()


def _prediction(at: datetime, label: str) -> Prediction:
    return Prediction(
        id=new_id(), created_at=at, text="secret text", text_sha256="0" * 64, label=label,
        probabilities={label: 1.0}, model_name="tiny", model_version=None, latency_ms=1.0,
    )  # fmt: skip


def _seed(client: TestClient) -> None:
    inside = [(10, 5, "neg"), (10, 59, "pos"), (12, 0, "neg"), (12, 10, "neg"), (12, 20, "pos")]
    outside = [(9, 59, "neg"), (13, 0, "pos")]
    predictions = [_prediction(_at(h, m), label) for h, m, label in inside + outside]
    feedback = [
        Feedback(prediction_id=predictions[0].id, correct=True, created_at=_at(10, 30)),
        Feedback(prediction_id=predictions[1].id, correct=False, created_at=_at(12, 1)),
        Feedback(prediction_id=predictions[2].id, correct=True, created_at=_at(12, 2)),
        Feedback(prediction_id=predictions[3].id, correct=True, created_at=_at(13, 5)),  # after the period
    ]
    alerts = [
        Alert(
            created_at=_at(h), rule="incorrect_feedback", message=f"at {h}", incorrect_count=3, window_min=5
        )
        for h in (8, 11, 12)
    ]
    _add(client, *predictions)
    _add(client, *feedback, *alerts)


def test_stats_per_hour(stats_client: TestClient) -> None:
    _seed(stats_client)
    response = stats_client.get("/v1/stats", params={"hours": 3, "until": UNTIL})  # no admin key
    assert response.status_code == 200
    body = response.json()
    assert (body["since"], body["until"]) == ("2024-01-01T10:00:00Z", "2024-01-01T13:00:00Z")
    assert body["labels"] == ["neg", "pos"] and body["negative_label"] == "neg"
    ten, eleven, twelve = body["buckets"]
    assert [b["hour"] for b in body["buckets"]] == [f"2024-01-01T{h}:00:00Z" for h in (10, 11, 12)]
    assert ten["predictions"] == {"neg": 1, "pos": 1} and ten["negative_share"] == 0.5
    assert eleven == {
        "hour": "2024-01-01T11:00:00Z", "predictions": {"neg": 0, "pos": 0}, "total": 0,
        "negative_share": None, "feedback": 0, "feedback_correct": 0, "accuracy": None,
        "baseline_share": None, "threshold_share": None, "spike": False,
    }  # fmt: skip
    assert twelve["predictions"] == {"neg": 2, "pos": 1} and twelve["negative_share"] == pytest.approx(2 / 3)
    assert (ten["feedback"], ten["accuracy"]) == (1, 1.0)
    assert (twelve["feedback"], twelve["feedback_correct"], twelve["accuracy"]) == (2, 1, 0.5)
    assert (body["total_predictions"], body["negative_share"]) == (5, 0.6)
    assert (body["total_feedback"], body["accuracy"]) == (3, pytest.approx(2 / 3))
    assert [a["message"] for a in body["alerts"]] == ["at 12", "at 11"]  # newest first, 08:00 is out
    assert "id" not in body["alerts"][0] and "secret text" not in response.text


def test_feedback_on_batch_predictions_is_left_out_with_them(stats_client: TestClient) -> None:
    live, batch = _prediction(_at(12, 0), "neg"), _prediction(_at(12, 5), "neg")
    batch.origin = "batch"
    _add(stats_client, live, batch)
    _add(
        stats_client,
        Feedback(prediction_id=live.id, correct=True, created_at=_at(12, 10)),
        Feedback(prediction_id=batch.id, correct=False, created_at=_at(12, 11)),
    )
    params: dict[str, Any] = {"hours": 3, "until": UNTIL}
    live_only = stats_client.get("/v1/stats", params=params).json()
    assert (live_only["total_feedback"], live_only["accuracy"]) == (1, 1.0)
    assert (live_only["buckets"][-1]["feedback"], live_only["buckets"][-1]["accuracy"]) == (1, 1.0)
    both = stats_client.get("/v1/stats", params={**params, "include_batch": True}).json()
    assert (both["total_feedback"], both["accuracy"]) == (2, 0.5)


def test_stats_of_an_empty_store(client: TestClient) -> None:
    body = client.get("/v1/stats").json()
    assert body["hours"] == 48 and len(body["buckets"]) == 48
    assert body["total_predictions"] == 0 and body["negative_share"] is None and body["accuracy"] is None
    assert body["labels"] == ["neg", "pos"]  # the model's classes, even before any prediction
    now = datetime.now(UTC)
    assert floor_hour(now) == datetime.fromisoformat(body["buckets"][-1]["hour"])


def test_labels_of_older_models_and_the_negative_label_override(client: TestClient) -> None:
    _add(client, _prediction(_at(12), "pos"), _prediction(_at(12, 5), "legacy"))
    params: dict[str, str | int] = {"hours": 1, "until": UNTIL, "negative_label": "pos"}
    body = client.get("/v1/stats", params=params).json()
    assert body["labels"] == ["neg", "pos", "legacy"]
    assert body["negative_label"] == "pos" and body["negative_share"] == 0.5


def test_a_naive_until_is_utc(client: TestClient) -> None:
    body = client.get("/v1/stats", params={"hours": 1, "until": "2024-01-01T12:30:00"}).json()
    assert body["since"] == "2024-01-01T12:00:00Z"


@pytest.mark.parametrize("params", [{"hours": 0}, {"hours": 24 * 31 + 1}, {"until": "yesterday"}])
def test_bad_parameters_are_422(client: TestClient, params: dict[str, Any]) -> None:
    assert client.get("/v1/stats", params=params).status_code == 422
