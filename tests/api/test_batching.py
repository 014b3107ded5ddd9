"""Micro-batching of concurrent predictions and the write-behind of prediction rows."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from api_support import TinyTfidfLR
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from nlpops.serve.batcher import MicroBatcher
from nlpops.serve.db import Prediction, Store, new_id, utcnow
from nlpops.serve.spool import Spool
from nlpops.serve.writer import PredictionWriter
from nlpops.tracking import LoadedModel


class Recording:
    """Wraps a model: records every predict_proba call; can be slowed down or made to fail."""

    def __init__(self, model: Any, delay_s: float = 0.0, fail: bool = False) -> None:
        self.model, self.delay_s, self.fail = model, delay_s, fail
        self.calls: list[int] = []
        self.classes_ = model.classes_

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        self.calls.append(len(texts))
        threading.Event().wait(self.delay_s)
        if self.fail:
            raise ValueError("model broken")
        return np.asarray(self.model.predict_proba(texts))


def _loaded(model: Any, name: str = "m") -> LoadedModel:
    return LoadedModel(model=model, name=name)


async def _many(batcher: MicroBatcher, loaded: list[LoadedModel], texts: list[str]) -> list[Any]:
    jobs = [batcher.predict(loaded[i % len(loaded)], [t]) for i, t in enumerate(texts)]
    try:
        return await asyncio.gather(*jobs, return_exceptions=True)
    finally:
        await batcher.close()


def test_concurrent_requests_share_model_calls(tiny_model: TinyTfidfLR) -> None:
    slow = Recording(tiny_model, delay_s=0.02)
    texts = [f"I love this {i}" if i % 2 else f"I hate this {i}" for i in range(40)]
    results = asyncio.run(_many(MicroBatcher(max_texts=16), [_loaded(slow)], texts))
    assert len(slow.calls) < 10 and max(slow.calls) <= 16  # batched, within the cap
    assert sum(slow.calls) == 40
    expected = tiny_model.predict_proba(texts)
    np.testing.assert_allclose(np.vstack(results), expected)  # each caller got its own rows


def test_a_single_request_is_not_delayed(tiny_model: TinyTfidfLR) -> None:
    rec = Recording(tiny_model)
    [proba] = asyncio.run(_many(MicroBatcher(), [_loaded(rec)], ["great movie"]))
    assert rec.calls == [1] and proba.shape == (1, 2)


def test_models_are_never_mixed_in_a_batch(tiny_model: TinyTfidfLR) -> None:
    old, new = Recording(tiny_model, delay_s=0.01), Recording(tiny_model, delay_s=0.01)
    texts = [f"text {i}" for i in range(20)]
    results = asyncio.run(_many(MicroBatcher(), [_loaded(old, "old"), _loaded(new, "new")], texts))
    assert sum(old.calls) == 10 and sum(new.calls) == 10
    assert all(isinstance(r, np.ndarray) for r in results)


def test_a_failing_batch_fails_its_requests_only(tiny_model: TinyTfidfLR) -> None:
    async def scenario() -> tuple[list[Any], np.ndarray]:
        batcher = MicroBatcher()
        broken = _many(batcher, [_loaded(Recording(tiny_model, fail=True))], ["a", "b", "c"])
        failed = await broken
        ok = await MicroBatcher().predict(_loaded(Recording(tiny_model)), ["great"])
        return failed, ok

    failed, ok = asyncio.run(scenario())
    assert all(isinstance(r, ValueError) for r in failed)
    assert ok.shape == (1, 2)


def _row(text: str) -> dict[str, Any]:
    return {
        "id": new_id(), "created_at": utcnow(), "text": text, "text_sha256": "0" * 64, "label": "pos",
        "probabilities": {"pos": 1.0}, "model_name": "m", "model_version": None, "latency_ms": 1.0,
    }  # fmt: skip


def _count(store: Store) -> int:
    with store.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(Prediction)) or 0)


def test_writer_batches_inserts_and_flush_sees_them(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'w.db'}")
    assert store.check() is None
    writer = PredictionWriter(store, Spool(tmp_path / "spool", 1 << 30), max_rows=7)
    for i in range(30):
        writer.submit([_row(f"t{i}")])
    assert writer.flush()
    assert _count(store) == 30 and writer.written == 30
    writer.submit([_row("last")])
    writer.close()  # drains before stopping
    assert _count(store) == 31
    store.close()


def test_predictions_are_stored_before_the_app_stops(client: TestClient, app: FastAPI) -> None:
    for i in range(5):
        assert client.post("/v1/predict", json={"text": f"great {i}"}).status_code == 200
    store: Store = app.state.store
    feedback_id = client.post("/v1/predict", json={"text": "feedback me"}).json()["predictions"][0]
    # feedback reads through a flushed session: a just-returned prediction is always found
    response = client.post(
        "/v1/feedback", json={"prediction_id": feedback_id["prediction_id"], "correct": True}
    )
    assert response.status_code == 201
    assert _count(store) == 6


@pytest.mark.parametrize("n_clients", [24])
def test_the_api_batches_concurrent_clients(app: FastAPI, n_clients: int) -> None:
    import httpx

    async def scenario() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            calls = [http.post("/v1/predict", json={"text": f"I love it {i}"}) for i in range(n_clients)]
            return await asyncio.gather(*calls)

    with TestClient(app):  # runs the lifespan: store, writer, model
        slow = Recording(app.state.holder.current.model, delay_s=0.02)
        app.state.holder.current.model = slow
        responses = asyncio.run(scenario())
    assert [r.status_code for r in responses] == [200] * n_clients
    assert len(slow.calls) < n_clients and sum(slow.calls) == n_clients
