"""Shared fixtures: an isolated MLflow store and settings for every test that asks for them."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("NLPOPS_DATA_DIR", str((ROOT / ".." / "shared" / "data").resolve()))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
# Served predictions are spooled on disk until stored: keep the tests' spools out of the user's.
os.environ.setdefault("NLPOPS_SPOOL_DIR", tempfile.mkdtemp(prefix="nlpops-test-spool-"))
PG_URL = os.environ.get("NLPOPS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture
def pg_schema() -> Iterator[tuple[str, Engine]]:
    """A fresh schema on the real PostgreSQL (dropped at the end) and an engine on the server;
    skips, saying why, when the server is unreachable."""
    admin = create_engine(PG_URL, connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as err:
        admin.dispose()
        pytest.skip(f"PostgreSQL unreachable at {PG_URL}: {type(err).__name__}: {err}")
    schema = f"nlpops_test_{uuid.uuid4().hex[:10]}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield schema, admin
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def pg_schema_url(pg_schema: tuple[str, Engine]) -> str:
    """The server's URL with ``search_path`` set to the fresh schema (append ``%20-c…`` for more)."""
    return f"{PG_URL}?options=-csearch_path%3D{pg_schema[0]}"


@pytest.fixture
def mlflow_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh sqlite tracking store + artifact folder under tmp_path, with settings reset."""
    from nlpops.settings import get_settings

    uri = f"sqlite:///{tmp_path / 'mlruns.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("NLPOPS_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    monkeypatch.setenv("NLPOPS_MODEL_CACHE_DIR", str(tmp_path / "cache"))
    get_settings.cache_clear()
    yield uri
    get_settings.cache_clear()


SENTENCES = {
    "positive": ["i love it", "great flight", "so happy today", "awesome crew", "good service", "love this"],
    "negative": ["i hate it", "awful flight", "so sad today", "terrible crew", "bad service", "hate this"],
}


@pytest.fixture
def tiny_data() -> tuple[list[str], list[str]]:
    """A tiny, perfectly separable binary dataset (repeated so every model can fit it)."""
    texts, labels = [], []
    for label, items in SENTENCES.items():
        for day in ("monday", "tuesday", "friday", "sunday"):  # distinct texts survive deduplication
            texts += [f"{item} on {day}" for item in items]
            labels += [label] * len(items)
    return texts, labels
