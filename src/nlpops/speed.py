"""Speed and size of a model: latency of one text, throughput of a batch, size on disk."""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

N_WARMUP = 5


def measure_latency(
    model: Any, texts: Sequence[str], n_single: int = 200, batch_size: int = 1000
) -> dict[str, float]:
    """Time ``predict_proba``: one text per call (p50, p99) and in one batch (best of two runs).

    Args:
        model (Any): Anything with ``predict_proba(list[str])``.
        texts (Sequence[str]): Texts to time; the first ``n_single`` are sent one by one after
            5 warm-up calls, the first ``batch_size`` in one batch.
        n_single (int): Number of single-text calls.
        batch_size (int): Size of the batch.

    Returns:
        dict[str, float]: ``latency_p50_ms``, ``latency_p99_ms`` and ``throughput_texts_per_s``.
    """
    if not texts:
        raise ValueError("measure_latency needs at least one text")
    from nlpops.models.encoders import uncached

    with uncached():  # the texts were just scored: cached embeddings would time a dictionary lookup
        return _timed(model, texts, n_single, batch_size)


def _timed(model: Any, texts: Sequence[str], n_single: int, batch_size: int) -> dict[str, float]:
    for text in itertools.islice(itertools.cycle(texts), N_WARMUP):
        model.predict_proba([text])
    timings_ms = []
    for text in texts[: max(n_single, 1)]:
        start = time.perf_counter()
        model.predict_proba([text])
        timings_ms.append((time.perf_counter() - start) * 1000)
    batch = list(texts[: max(batch_size, 1)])
    best_s = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        model.predict_proba(batch)
        best_s = min(best_s, time.perf_counter() - start)
    return {
        "latency_p50_ms": float(np.percentile(timings_ms, 50)),
        "latency_p99_ms": float(np.percentile(timings_ms, 99)),
        "throughput_texts_per_s": len(batch) / max(best_s, 1e-9),
    }


def model_size_mb(folder: Path) -> float:
    """Total size of the files under ``folder`` (a saved model), in MiB (2**20 bytes)."""
    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(f"no model folder at {folder}")
    files = [folder] if folder.is_file() else [p for p in folder.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 2**20
