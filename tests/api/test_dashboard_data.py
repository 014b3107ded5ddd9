"""What the dashboard reads: day buckets, the spike rule's baseline and threshold per bucket, the
current window's top terms (examples only with the admin key), batch uploads left out, and the live
drift check (``GET /v1/drift``, ``/metrics``, an alert when drift starts)."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from api_support import API_KEY, RecordingChannel
from fastapi import FastAPI
from fastapi.testclient import TestClient

from nlpops.drift import build_profile
from nlpops.serve.app import create_app
from nlpops.serve.db import Alert, Prediction, new_id
from nlpops.serve.drift_monitor import LiveDriftMonitor
from nlpops.settings import Settings
from nlpops.tracking import LoadedModel

UNTIL = datetime(2024, 3, 30, 12, 30, tzinfo=UTC)


def add(app: Any, rows: list[Prediction]) -> None:
    with app.state.store.session_factory() as session:
        session.add_all(rows)
        session.commit()


def prediction(at: datetime, label: str, text: str = "fine", origin: str = "live") -> Prediction:
    return Prediction(
        id=new_id(), created_at=at, text=text, text_sha256="0" * 64, label=label, origin=origin,
        probabilities={"neg": 0.9 if label == "neg" else 0.1, "pos": 0.1 if label == "neg" else 0.9},
        model_name="tiny", model_version=None, latency_ms=1.0,
    )  # fmt: skip


def test_thirty_days_come_in_day_buckets_with_spike_markers(client: TestClient, app: FastAPI) -> None:
    rows = []
    for day in range(30):  # 40 posts a day, 10 % negative; the last day 60 % negative, about refunds
        start = UNTIL - timedelta(days=29 - day)
        share = 0.6 if day == 29 else 0.1
        for i in range(40):
            label = "neg" if i < 40 * share else "pos"
            text = "they refuse my refund again" if label == "neg" and day == 29 else "the flight was ok"
            rows.append(prediction(start - timedelta(minutes=i), label, text))
    rows += [prediction(UNTIL - timedelta(minutes=5), "neg", "batch row", origin="batch") for _ in range(500)]
    add(app, rows)
    body = client.get("/v1/stats", params={"hours": 720, "until": UNTIL.isoformat()}).json()
    assert body["bucket"] == "day" and len(body["buckets"]) in (30, 31)
    last = body["buckets"][-1]
    assert last["total"] == 40  # the 500 batch rows are left out of the live figures
    assert last["spike"] and not any(b["spike"] for b in body["buckets"][:-1])
    assert abs(last["baseline_share"] - 0.1) < 0.02 and 0.1 < last["threshold_share"] < 0.6
    assert "refund" in body["top_terms"] and body["examples"] == [] and body["examples_hidden"]
    with_key = client.get(
        "/v1/stats", params={"hours": 720, "until": UNTIL.isoformat()}, headers={"X-API-Key": API_KEY}
    ).json()
    assert with_key["examples"][0] == "they refuse my refund again"
    batch = client.get("/v1/stats", params={"hours": 720, "until": UNTIL.isoformat(), "include_batch": True})
    assert batch.json()["buckets"][-1]["total"] == 540
    hourly = client.get("/v1/stats", params={"hours": 48, "until": UNTIL.isoformat()}).json()
    assert hourly["bucket"] == "hour" and len(hourly["buckets"]) == 48


REFERENCE = [f"I love this movie {i}" for i in range(100)] + [f"I hate this film {i}" for i in range(100)]


def drift_settings(settings: Settings, model_dir: Path, tmp_path: Path, tiny_model: Any) -> Settings:
    """Settings serving a copy of the tiny model whose reference profile is ``REFERENCE``."""
    folder = tmp_path / "model"
    shutil.copytree(model_dir, folder)
    build_profile(tiny_model, REFERENCE, REFERENCE).save(folder)
    return settings.model_copy(update={"model_uri": str(folder), "drift_interval_s": 0})


def test_the_live_drift_check_flags_shifted_texts_and_alerts_once(
    settings: Settings, model_dir: Path, tmp_path: Path, tiny_model: Any
) -> None:
    channel = RecordingChannel()
    app = create_app(drift_settings(settings, model_dir, tmp_path, tiny_model))
    with TestClient(app) as client:
        monitor: LiveDriftMonitor = app.state.drift_monitor
        monitor.channels = [channel]
        assert client.get("/v1/drift").json()["drift_detected"] is None
        now = datetime.now(UTC)
        proba = tiny_model.predict_proba(REFERENCE)
        same = [prediction(now, "neg", text) for text in REFERENCE]  # the reference texts themselves
        for row, p in zip(same, proba, strict=True):
            row.probabilities = {"neg": float(p[0]), "pos": float(p[1])}
            row.label = "neg" if p[0] > p[1] else "pos"
        loaded: LoadedModel = app.state.holder.current
        for row in same:
            row.model_name = loaded.name
        add(app, same)
        with app.state.store.session_factory() as session:
            assert monitor.check(session, loaded).drift_detected is False
        shifted = "le vol est en retard et je ne suis pas content du service"
        later = [prediction(now + timedelta(seconds=1), "neg", f"{shifted} {i}") for i in range(300)]
        for row in later:
            row.model_name = loaded.name
        add(app, later)
        with app.state.store.session_factory() as session:
            report = monitor.check(session, app.state.holder.current)
            assert report is not None and report.drift_detected is True
            monitor.check(session, app.state.holder.current)  # still drifting: no second alert
            alerts = session.query(Alert).filter(Alert.rule == "input_drift").all()
        status = client.get("/v1/drift").json()
        assert status["drift_detected"] is True and any(f["drifted"] for f in status["features"])
        metrics = client.get("/metrics").text
        assert "nlpops_drift_detected 1.0" in metrics and 'nlpops_drift_psi{feature="language"}' in metrics
        assert len(alerts) == 1 and len(channel.sent) == 1 and "retrain" in channel.sent[0][1]


def test_the_live_drift_check_reads_only_the_served_versions_predictions(
    settings: Settings, model_dir: Path, tmp_path: Path, tiny_model: Any
) -> None:
    app = create_app(drift_settings(settings, model_dir, tmp_path, tiny_model))
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        # Version 2 was hot-reloaded a second ago; the newest rows are still version 1's, about
        # other texts and all "neg" with full confidence: they must not count against version 2.
        served = replace(app.state.holder.current, name="models:/tiny@champion", version="2")
        now = datetime.now(UTC)
        proba = tiny_model.predict_proba(REFERENCE)
        mine = [prediction(now - timedelta(minutes=1), "neg", text) for text in REFERENCE]
        for row, p in zip(mine, proba, strict=True):
            row.probabilities = {"neg": float(p[0]), "pos": float(p[1])}
            row.label = "neg" if p[0] > p[1] else "pos"
            row.model_name, row.model_version = served.name, "2"
        shifted = "le vol est en retard et je ne suis pas content du service"
        before = [prediction(now, "neg", f"{shifted} {i}") for i in range(300)]
        for row in before:
            row.model_name, row.model_version = served.name, "1"
            row.probabilities = {"neg": 1.0, "pos": 0.0}
        add(app, mine + before)
        with app.state.store.session_factory() as session:
            report = app.state.drift_monitor.check(session, served)
        assert report is not None and report.n_current == len(REFERENCE) and report.drift_detected is False


def test_a_model_without_a_profile_gets_no_verdict(client: TestClient, app: FastAPI) -> None:
    loaded: LoadedModel = app.state.holder.current
    with app.state.store.session_factory() as session:
        assert app.state.drift_monitor.check(session, loaded) is None
