"""Fixtures of the API tests: a tiny fitted model saved to disk, SQLite in tmp_path, a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import API_KEY, DOWN_URL, FakeClock, RecordingChannel, TinyTfidfLR, fit_tiny
from fastapi import FastAPI
from fastapi.testclient import TestClient

from nlpops.serve.alerts import Alerter, AlertRule
from nlpops.serve.app import create_app
from nlpops.serve.db import Store
from nlpops.settings import Settings
from pg_private import PrivatePostgres


@pytest.fixture(scope="session")
def tiny_model() -> TinyTfidfLR:
    return fit_tiny()


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory, tiny_model: TinyTfidfLR) -> Path:
    return tiny_model.save(tmp_path_factory.mktemp("models") / "tiny")


@pytest.fixture
def settings(tmp_path: Path, model_dir: Path) -> Settings:
    return Settings(
        _env_file=None,
        model_uri=str(model_dir),
        database_url=f"sqlite:///{tmp_path / 'serve.db'}",
        api_key=API_KEY,
        reload_interval_s=0,
        model_cache_dir=tmp_path / "cache",
        spool_dir=tmp_path / "spool",
        max_text_chars=200,
        max_batch=4,
        explain_samples=200,
        explain_processes=False,  # a worker process per app costs a second; test_predict covers them
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def channel() -> RecordingChannel:
    return RecordingChannel()


@pytest.fixture
def app(settings: Settings, clock: FakeClock, channel: RecordingChannel) -> FastAPI:
    return create_app(settings, alerter=Alerter(AlertRule.from_settings(settings, clock), [channel]))


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def down_store() -> Iterator[Store]:
    """A store whose database is unreachable."""
    store = Store(DOWN_URL)
    yield store
    store.close()


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    """A PostgreSQL cluster of the test's own, to stop, pause and crash (never the shared server)."""
    pg = PrivatePostgres()
    pg.start()
    try:
        yield pg
    finally:
        if (pg.data / "postmaster.pid").exists():
            pg.resume()  # a paused server does not stop
        pg.remove()
