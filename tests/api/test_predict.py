"""POST /v1/predict, POST /v1/explain and GET /v1/model: answers, storage and every bad input."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from api_support import predict_one
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from nlpops.serve.app import create_app
from nlpops.serve.db import Prediction, Store
from nlpops.serve.spool import Spool
from nlpops.serve.writer import PredictionWriter
from nlpops.settings import Settings


def _rows(app: FastAPI) -> list[Prediction]:
    assert app.state.writer.flush()  # predictions are written behind the answer
    with app.state.store.session_factory() as session:
        return list(session.scalars(select(Prediction)))


def test_predict_one_text(client: TestClient, app: FastAPI) -> None:
    response = client.post("/v1/predict", json={"text": "I love this movie"})
    assert response.status_code == 200
    body = response.json()
    [pred] = body["predictions"]
    assert pred["label"] == "pos"
    assert set(pred["probabilities"]) == {"neg", "pos"}
    assert sum(pred["probabilities"].values()) == pytest.approx(1.0)
    assert body["model_name"] == "tiny" and body["latency_ms"] >= 0
    [row] = _rows(app)
    assert row.id == pred["prediction_id"] and row.text == "I love this movie" and row.label == "pos"
    assert len(row.text_sha256) == 64


def test_predict_batch_keeps_order(client: TestClient, app: FastAPI) -> None:
    texts = ["I hate this", "great movie, love it", "awful and horrible"]
    response = client.post("/v1/predict", json={"texts": texts})
    assert response.status_code == 200
    assert [p["label"] for p in response.json()["predictions"]] == ["neg", "pos", "neg"]
    assert len(_rows(app)) == 3


def test_store_text_off_keeps_only_the_hash(client: TestClient, app: FastAPI) -> None:
    app.state.settings.store_text = False
    predict_one(client, "secret text")
    [row] = _rows(app)
    assert row.text is None and row.text_sha256


@pytest.mark.parametrize(
    ("payload", "hint"),
    [
        ({}, "exactly one of 'text'"),
        ({"text": "a", "texts": ["b"]}, "exactly one of 'text'"),
        ({"text": ""}, "empty"),
        ({"text": "   \n"}, "empty"),
        ({"texts": []}, "at least 1"),
        ({"texts": ["fine", "  "]}, "empty"),
        ({"text": 123}, "valid string"),
        ({"texts": "not a list"}, "valid list"),
        ({"text": "ok", "lang": "en"}, "not permitted"),
        ([1, 2], "valid dictionary"),
    ],
)
def test_predict_bad_input_is_422(client: TestClient, payload: Any, hint: str) -> None:
    response = client.post("/v1/predict", json=payload)
    assert response.status_code == 422
    assert hint in response.text


def test_predict_malformed_json_is_422(client: TestClient) -> None:
    response = client.post("/v1/predict", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422


def test_predict_text_too_long_is_413(client: TestClient) -> None:
    response = client.post("/v1/predict", json={"texts": ["ok", "x" * 201]})
    assert response.status_code == 413
    assert "text 1 has 201 characters; the limit is 200" in response.json()["detail"]


def test_predict_batch_too_big_is_413(client: TestClient) -> None:
    response = client.post("/v1/predict", json={"texts": ["ok"] * 5})
    assert response.status_code == 413
    assert "at most 4" in response.json()["detail"]


def test_predict_answers_when_the_database_is_down(
    client: TestClient, app: FastAPI, down_store: Store, tmp_path: Path
) -> None:
    healthy = app.state.writer
    spool = Spool(tmp_path / "down-spool", 1 << 30)
    app.state.writer = PredictionWriter(down_store, spool, retry_delay_s=0)
    response = client.post("/v1/predict", json={"text": "I love this"})
    assert response.status_code == 200
    assert response.json()["predictions"][0]["label"] == "pos"
    assert app.state.writer.flush() and app.state.writer.pending == 1  # kept until the database answers
    app.state.writer.close()
    assert app.state.writer.lost == 0 and len(list(spool.folder.glob("*.spool"))) == 1  # kept on disk
    app.state.writer = healthy
    assert client.post("/v1/predict", json={"text": "back again"}).status_code == 200
    assert [r.text for r in _rows(app)] == ["back again"]


def test_explain_names_the_words(client: TestClient) -> None:
    start = time.perf_counter()
    response = client.post("/v1/explain", json={"text": "I love this great movie"})
    assert time.perf_counter() - start < 2.0
    assert response.status_code == 200
    body = response.json()
    assert body["label"] == "pos"
    assert {w["word"] for w in body["weights"]} <= {"I", "love", "this", "great", "movie"}
    assert "love" in body["supporting"] and "great" in body["supporting"]
    assert not set(body["supporting"]) & set(body["opposing"])


def test_explanations_run_in_a_worker_process_and_match_a_threads(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker loads the served model from its folder; LIME is seeded, so the weights are the same."""
    import nlpops.serve.routes.predict as route

    body = {"text": "I love this great movie"}
    thread_explain = route.explain_text
    monkeypatch.setattr(route, "explain_text", None)  # this process cannot explain: only a worker can
    with TestClient(create_app(settings.model_copy(update={"explain_processes": True}))) as client:
        in_worker = client.post("/v1/explain", json=body)
    monkeypatch.setattr(route, "explain_text", thread_explain)
    with TestClient(create_app(settings.model_copy(update={"explain_processes": False}))) as client:
        in_thread = client.post("/v1/explain", json=body)
    assert in_worker.status_code == in_thread.status_code == 200
    assert in_worker.json()["weights"] == in_thread.json()["weights"] and in_worker.json()["label"] == "pos"


def test_a_worker_reloads_when_the_served_version_changes(model_dir: Path, tmp_path: Path) -> None:
    from nlpops.models import build_model
    from nlpops.serve import explain

    other = build_model("tfidf_lr").fit(["awful day", "great day"] * 5, ["neg", "pos"] * 5)
    other_dir = other.save(tmp_path / "other")
    assert explain.load_saved(str(model_dir), "v1") is explain.load_saved(str(model_dir), "v1")  # loaded once
    label, _, _ = explain.explain_saved(str(other_dir), "v2", "great", 50)
    assert label == "pos" and list(explain._WORKER_MODEL) == [(str(other_dir), "v2")]  # one model at a time


def test_the_worker_key_changes_when_the_served_folder_is_saved_again(tmp_path: Path) -> None:
    """An admin reload of a folder saved again (same URI, no version) must not keep the old model in
    the worker."""
    from nlpops.models import build_model
    from nlpops.serve.explain import worker_ref
    from nlpops.tracking import load_estimator

    texts, labels = ["awful day", "great day"] * 5, ["neg", "pos"] * 5
    folder = build_model("tfidf_lr").fit(texts, labels).save(tmp_path / "served")
    before = worker_ref(load_estimator(str(folder)), processes=True)
    time.sleep(0.01)
    build_model("tfidf_lr", {"C": 3.0}).fit(texts, labels).save(folder)
    after = worker_ref(load_estimator(str(folder)), processes=True)
    assert before is not None and after is not None and before[0] == after[0] and before[1] != after[1]
    assert worker_ref(load_estimator(str(folder)), processes=False) is None


def test_explain_without_words_has_no_weights(client: TestClient) -> None:
    response = client.post("/v1/explain", json={"text": "!!! ???"})
    assert response.status_code == 200
    assert response.json()["weights"] == []


@pytest.mark.parametrize(
    ("payload", "code"), [({"text": " "}, 422), ({}, 422), ({"text": ["a"]}, 422), ({"text": "y" * 201}, 413)]
)
def test_explain_bad_input(client: TestClient, payload: dict[str, Any], code: int) -> None:
    assert client.post("/v1/explain", json=payload).status_code == code


def test_model_info(client: TestClient, model_dir: Any) -> None:
    response = client.get("/v1/model")
    assert response.status_code == 200
    body = response.json()
    assert body["classes"] == ["neg", "pos"]
    assert body["name"] == "tiny" and body["uri"] == str(model_dir)
    assert body["version"] is None and body["metrics"] == {}
