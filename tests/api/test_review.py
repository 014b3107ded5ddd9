"""One verdict per prediction (the last wins, counted once), the review queue, and the migration that
deduplicates the verdicts stored before."""

from __future__ import annotations

from pathlib import Path

from api_support import API_KEY, predict_one
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text

from nlpops.serve.db import MIGRATIONS_DIR, Feedback, migrate

ADMIN = {"X-API-Key": API_KEY}


def verdicts(app: FastAPI) -> list[tuple[str, bool, str | None, str]]:
    with app.state.store.session_factory() as session:
        rows = session.execute(
            select(Feedback.prediction_id, Feedback.correct, Feedback.label, Feedback.source)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_the_last_verdict_wins_and_counts_once(client: TestClient, app: FastAPI) -> None:
    pid = predict_one(client)
    first = client.post("/v1/feedback", json={"prediction_id": pid, "correct": False}).json()
    client.post("/v1/feedback", json={"prediction_id": pid, "correct": True})
    last = client.post("/v1/feedback", json={"prediction_id": pid, "correct": False, "label": "neg"}).json()
    assert verdicts(app) == [(pid, False, "neg", "user")]
    assert last["id"] == first["id"] and last["label"] == "neg"
    stats = client.get("/v1/stats").json()
    assert stats["total_feedback"] == 1 and stats["accuracy"] == 0.0


def test_the_review_queue_puts_flagged_predictions_first(client: TestClient, app: FastAPI) -> None:
    sure = predict_one(client, "I love love love this wonderful great movie")
    flagged = predict_one(client, "I love this movie")
    unsure = predict_one(client, "a movie")
    client.post("/v1/feedback", json={"prediction_id": flagged, "correct": False})
    client.post("/v1/feedback", json={"prediction_id": sure, "correct": True})  # judged: not in the queue
    assert client.get("/v1/review").status_code == 401
    page = client.get("/v1/review", headers=ADMIN).json()
    ids = [item["prediction_id"] for item in page["items"]]
    assert ids[0] == flagged and unsure in ids and sure not in ids
    assert page["items"][0]["user_verdict"]["correct"] is False
    assert page["items"][0]["words"] and page["classes"] == ["neg", "pos"]
    assert page["size"] >= 1


def test_a_review_verdict_replaces_the_users(client: TestClient, app: FastAPI) -> None:
    pid = predict_one(client)
    client.post("/v1/feedback", json={"prediction_id": pid, "correct": False})
    answer = client.post(f"/v1/review/{pid}", json={"correct": True}, headers=ADMIN)
    assert answer.status_code == 200 and answer.json()["source"] == "review"
    assert verdicts(app) == [(pid, True, None, "review")]
    ids = [i["prediction_id"] for i in client.get("/v1/review", headers=ADMIN).json()["items"]]
    assert pid not in ids  # reviewed: out of the queue
    bad = client.post(f"/v1/review/{pid}", json={"correct": False, "label": "maybe"}, headers=ADMIN)
    assert bad.status_code == 422 and "classes" in bad.json()["detail"]
    predicted = client.get("/v1/feedback", headers=ADMIN).json()["items"][0]["predicted_label"]
    other = "neg" if predicted == "pos" else "pos"
    contradicts = client.post(f"/v1/review/{pid}", json={"correct": True, "label": other}, headers=ADMIN)
    assert contradicts.status_code == 422 and "correct is true" in contradicts.json()["detail"]
    assert verdicts(app) == [(pid, True, None, "review")]
    assert client.post("/v1/review/nope", json={"correct": True}, headers=ADMIN).status_code == 404


def test_the_review_page_is_served(client: TestClient) -> None:
    page = client.get("/review")
    assert page.status_code == 200 and "review.js" in page.text and 'type="password"' in page.text


def test_the_migration_keeps_the_last_verdict_of_each_prediction(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(
            text(
                "INSERT INTO predictions (id, created_at, text, text_sha256, label, probabilities, "
                "model_name, latency_ms) VALUES ('p1', '2026-01-01', 't', 'h', 'pos', '{}', 'm', 1)"
            )
        )
        for i, (correct, when) in enumerate(
            [(0, "2026-01-01 10:00"), (1, "2026-01-01 12:00"), (0, "2026-01-01 11:00")]
        ):
            conn.execute(
                text(
                    "INSERT INTO feedback (id, prediction_id, correct, created_at) VALUES (:i, 'p1', :c, :w)"
                ),
                {"i": f"f{i}", "c": correct, "w": when},
            )
    migrate(engine)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, correct, source FROM feedback")).all()
        origin = conn.execute(text("SELECT origin FROM predictions")).scalar_one()
        count = conn.scalar(select(func.count()).select_from(Feedback))
    assert [tuple(r) for r in rows] == [("f1", 1, "user")] and count == 1 and origin == "live"
    engine.dispose()
