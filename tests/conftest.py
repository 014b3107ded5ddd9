"""Shared fixtures: an isolated MLflow store and settings for every test that asks for them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("NLPOPS_DATA_DIR", str((ROOT / ".." / "shared" / "data").resolve()))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


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
