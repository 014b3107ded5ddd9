"""The 5xx found by fuzzing the running API, each pinned down by a test.

schemathesis (``test_fuzz.py``) found the first two; the NUL ones were found by hand while reading
its output (its strings rarely hit a NUL in an otherwise valid body).

- ``GET /v1/stats?until=9999-12-31T23:59:59`` (or year 1): the period overflowed ``datetime`` → 500.
- ``GET /v1/feedback?offset=25799560609852407808``: past PostgreSQL's bigint → 500.
- ``POST /v1/feedback`` with a NUL character in ``prediction_id``: PostgreSQL refuses NUL in text → 500.
- ``POST /v1/predict`` of a text with NUL: answered 200, but PostgreSQL refused the row, and with it
  every other prediction of the writer's batch; feedback on it then said 404.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_support import ADMIN, predict_one
from fastapi.testclient import TestClient

from nlpops.serve.app import create_app
from nlpops.settings import Settings


@pytest.mark.parametrize(
    "query", ["until=9999-12-31T23:59:59", "until=0001-01-01T00:00:00", "hours=744&until=0001-01-20T05:00:00"]
)
def test_stats_period_out_of_range_is_422(client: TestClient, query: str) -> None:
    response = client.get(f"/v1/stats?{query}")
    assert response.status_code == 422
    assert "outside the years 1 to 9999" in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"prediction_id": "a\u0000b", "correct": True},
        {"prediction_id": "x" * 37, "correct": True},
        {"prediction_id": "x", "correct": False, "label": "n\u0000eg"},
    ],
)
def test_feedback_fields_a_column_cannot_take_are_422(client: TestClient, body: dict[str, object]) -> None:
    response = client.post("/v1/feedback", json=body)
    assert response.status_code == 422, response.text


def test_feedback_export_offset_past_bigint_is_422(client: TestClient) -> None:
    response = client.get("/v1/feedback?offset=25799560609852407808", headers=ADMIN)
    assert response.status_code == 422
    assert client.get("/v1/feedback?offset=1000000000000", headers=ADMIN).status_code == 200


@pytest.fixture
def pg_client(settings: Settings, pg_schema_url: str) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"database_url": pg_schema_url}))
    with TestClient(app) as client:
        yield client


@pytest.mark.postgres
def test_nul_in_a_text_is_stored_on_postgres(pg_client: TestClient) -> None:
    good = predict_one(pg_client, "I love this")
    response = pg_client.post("/v1/predict", json={"texts": ["what an awful\u0000 day", "so happy"]})
    assert response.status_code == 200
    nul, other = (p["prediction_id"] for p in response.json()["predictions"])
    for pid in (good, nul, other):
        created = pg_client.post("/v1/feedback", json={"prediction_id": pid, "correct": True})
        assert created.status_code == 201, created.text
    assert pg_client.app.state.writer.lost == 0
