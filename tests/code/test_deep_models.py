"""The PyTorch kinds: contract, training, persistence, determinism and the word-vector formats."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone

pytest.importorskip("torch")
pytest.importorskip("gensim")

from gensim.models import FastText, KeyedVectors
from gensim.models.fasttext import save_facebook_model

from nlpops.models import build_model, load_model_dir
from nlpops.models.deep.estimator import TorchTextClassifier
from nlpops.models.deep.vectors import detect_format, load_vectors

KINDS = ["embed_bag", "bilstm", "cnn"]
# Tiny networks, one thread, no early stopping: each fit takes well under a second.
FAST: dict[str, Any] = {
    "recipe": "minimal",
    "min_count": 1,
    "embedding_dim": 16,
    "hidden_size": 16,
    "num_filters": 8,
    "batch_size": 16,
    "max_epochs": 15,
    "learning_rate": 0.02,
    "validation_fraction": 0.0,
    "n_jobs": 1,
    "verbose": False,
}
WORDS = {
    "positive": ["love", "great", "wonderful", "awesome", "happy", "excellent"],
    "negative": ["hate", "terrible", "awful", "horrible", "sad", "worst"],
    "neutral": ["tuesday", "table", "number", "report", "paper", "bus"],
}
TEMPLATES = ["this is {}", "{} today", "i think it is {}", "{}", "my day was {} really"]


def make_data(labels: tuple[str, ...] = ("negative", "positive")) -> tuple[list[str], list[str]]:
    """Every template x every sentiment word, labelled by the word's class."""
    pairs = [(t.format(w), label) for label in labels for w in WORDS[label] for t in TEMPLATES]
    return [t for t, _ in pairs], [label for _, label in pairs]


def fitted(kind: str, labels: tuple[str, ...] = ("negative", "positive"), **params: Any) -> Any:
    return build_model(kind, {**FAST, **params}).fit(*make_data(labels))


@pytest.fixture(scope="module")
def binary_models() -> dict[str, Any]:
    """Fit each kind once for the tests that only read a fitted model."""
    return {kind: fitted(kind) for kind in KINDS}


@pytest.mark.parametrize("kind", KINDS)
def test_fit_predict_shapes_and_probabilities(kind: str, binary_models: dict[str, Any]) -> None:
    model = binary_models[kind]
    texts = ["i love this, wonderful", "awful, the worst", "", "   ", "🙂 ???", "line\nbreak\ttab"]
    proba = model.predict_proba(texts)
    assert proba.shape == (len(texts), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-9)
    assert list(model.classes_) == ["negative", "positive"]
    assert list(model.predict(texts[:2])) == ["positive", "negative"]
    assert model.predict_proba([]).shape == (0, 2)


@pytest.mark.parametrize("kind", KINDS)
def test_batched_equals_one_by_one(kind: str, binary_models: dict[str, Any]) -> None:
    # padding and length sorting must not change any text's probabilities
    model = binary_models[kind]
    texts = ["great", "i think it is awful today, really awful", "my day was happy really", "x"]
    one_by_one = np.vstack([model.predict_proba([t]) for t in texts])
    np.testing.assert_allclose(model.predict_proba(texts), one_by_one, rtol=1e-5, atol=1e-6)


@pytest.mark.training
@pytest.mark.parametrize("kind", KINDS)
def test_training_loss_decreases(kind: str) -> None:
    model = fitted(kind)  # 15 epochs over 60 texts, no early stopping
    losses = [row["train_loss"] for row in model.history_]
    assert len(losses) == 15 and losses[-1] < 0.5 * losses[0]
    assert set(model.history_[0]) == {"epoch", "train_loss", "val_loss", "val_accuracy", "seconds"}


@pytest.mark.parametrize("kind", KINDS)
def test_save_load_identical_probabilities(kind: str, binary_models: dict[str, Any], tmp_path: Path) -> None:
    model = binary_models[kind]
    texts = ["this is great", "i hate the bus", "tuesday", "", "unseen words only"]
    folder = model.save(tmp_path / kind)
    assert {"weights.pt", "deep_state.json"} <= {p.name for p in folder.iterdir()}
    assert not list(folder.glob("*.joblib"))  # no pickled torch objects
    loaded = load_model_dir(folder)
    assert type(loaded) is type(model)
    assert loaded.get_params() == model.get_params()
    np.testing.assert_equal(loaded.history_, model.history_)  # NaN == NaN here
    np.testing.assert_array_equal(loaded.predict_proba(texts), model.predict_proba(texts))


def test_pickle_and_deepcopy(binary_models: dict[str, Any]) -> None:
    model = binary_models["bilstm"]
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(["so happy"]), model.predict_proba(["so happy"]))
    assert copy.deepcopy(model).get_params() == model.get_params()


@pytest.mark.parametrize("kind", KINDS)
def test_clone_and_get_params(kind: str, binary_models: dict[str, Any]) -> None:
    model = binary_models[kind]
    twin = clone(model)
    assert type(twin) is type(model) and twin.get_params() == model.get_params()
    assert not hasattr(twin, "classes_") and not hasattr(twin, "net_")
    twin.set_params(hidden_size=8)
    assert twin.get_params()["hidden_size"] == 8


@pytest.mark.parametrize("kind", KINDS)
def test_three_classes(kind: str) -> None:
    model = fitted(kind, ("negative", "neutral", "positive"))
    proba = model.predict_proba(["wonderful and excellent", "awful, horrible", "the table"])
    assert proba.shape == (3, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-9)
    assert list(proba.argmax(axis=1)) == [2, 0, 1]


def test_same_seed_same_probabilities_other_seed_differs() -> None:
    texts = ["what a wonderful day", "the worst bus"]
    params = {"embeddings": "word2vec", "validation_fraction": 0.2, "max_epochs": 3}
    first, second = fitted("bilstm", **params), fitted("bilstm", **params)
    np.testing.assert_array_equal(first.predict_proba(texts), second.predict_proba(texts))
    assert first.history_[-1]["val_loss"] == second.history_[-1]["val_loss"]
    other = fitted("bilstm", **params, random_state=1)
    assert not np.array_equal(other.predict_proba(texts), first.predict_proba(texts))


def test_early_stopping_stops_and_keeps_the_best_epoch() -> None:
    texts, _ = make_data(("negative", "neutral", "positive"))
    noise = list(np.random.default_rng(0).choice(["a", "b"], size=len(texts)))  # nothing to learn
    params = {**FAST, "validation_fraction": 0.3, "max_epochs": 40, "patience": 2, "lr_schedule": "constant"}
    model = build_model("embed_bag", params).fit(texts, noise)
    val_losses = [row["val_loss"] for row in model.history_]
    best_epoch = int(np.argmin(val_losses)) + 1
    assert len(val_losses) < 40 and len(val_losses) == best_epoch + 2
    # the same run cut at the best epoch gives the weights that early stopping restored
    at_best = build_model("embed_bag", {**params, "max_epochs": best_epoch}).fit(texts, noise)
    np.testing.assert_allclose(model.predict_proba(texts), at_best.predict_proba(texts), rtol=1e-6)


@pytest.mark.parametrize("schedule", ["constant", "linear", "cosine", "plateau"])
def test_schedules_and_balanced_class_weights(schedule: str) -> None:
    texts, labels = make_data()
    texts, labels = texts[:40], labels[:40]  # 30 negative, 10 positive
    params = {**FAST, "lr_schedule": schedule, "class_weight": "balanced", "validation_fraction": 0.25}
    model = build_model("embed_bag", params).fit(texts, labels)
    np.testing.assert_allclose(model._train_config(np.asarray([0, 0, 0, 1]), None).class_weights, [2 / 3, 2])
    assert model.predict(["love it"])[0] == "positive"


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"embeddings": "glove"}, ValueError, "embeddings must be one of"),
        ({"embeddings": "pretrained"}, ValueError, "needs vectors_path"),
        ({"lr_schedule": "step"}, ValueError, "lr_schedule"),
        ({"class_weight": "auto"}, ValueError, "class_weight"),
    ],
)
def test_bad_parameters_fail_before_training(params: dict[str, Any], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        build_model("bilstm", {**FAST, **params}).fit(*make_data())


def test_base_class_needs_an_architecture() -> None:
    with pytest.raises(TypeError, match="BiLSTMClassifier"):
        TorchTextClassifier(**FAST).fit(*make_data())


def test_importing_nlpops_does_not_import_torch() -> None:
    code = "import sys, nlpops, nlpops.models, nlpops.train; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --- word-vector files ----------------------------------------------------------------------
VECTOR_WORDS = ["love", "great", "hate", "awful", "day", "this", "is"]  # "wonderful" etc. missing


def _keyed_vectors() -> KeyedVectors:
    kv = KeyedVectors(vector_size=8)
    rng = np.random.default_rng(0)
    kv.add_vectors(VECTOR_WORDS, rng.normal(size=(len(VECTOR_WORDS), 8)).astype(np.float32))
    return kv


def _write(fmt: str, folder: Path) -> Path:
    """A tiny vectors file in ``fmt``, written by gensim as real tools write them."""
    names = {
        "word2vec_bin": "w2v.bin",
        "word2vec_text": "w2v.txt",
        "glove": "glove.txt",
        "fasttext_vec": "ft.vec",
        "fasttext_bin": "ft.bin",
    }
    path = folder / names[fmt]
    if fmt == "fasttext_bin":
        sentences = [VECTOR_WORDS, ["love", "this", "day"], ["hate", "awful", "day"]] * 5
        model = FastText(sentences, vector_size=8, min_count=1, bucket=1000, epochs=2, seed=0, workers=1)
        save_facebook_model(model, str(path))
    else:
        binary = fmt == "word2vec_bin"
        _keyed_vectors().save_word2vec_format(str(path), binary=binary, write_header=fmt != "glove")
    return path


@pytest.mark.parametrize("fmt", ["word2vec_bin", "word2vec_text", "glove", "fasttext_vec", "fasttext_bin"])
def test_pretrained_vectors_load_and_cover_the_vocabulary(fmt: str, tmp_path: Path) -> None:
    path = _write(fmt, tmp_path)
    assert detect_format(path) == fmt
    kv = load_vectors(path)
    assert kv.vector_size == 8 and kv.has_index_for("love")
    model = fitted("bilstm", embeddings="pretrained", vectors_path=str(path), max_epochs=2)
    coverage = model.coverage_
    assert 0.2 < coverage["vocab_coverage"] < 1.0  # the file lacks most sentiment words
    # only fastText .bin builds vectors for the missing words from their n-grams
    assert (coverage["subword_coverage"] > 0) == (fmt == "fasttext_bin")
    assert model.net_.embedding.weight.shape[1] == 8  # the file's width wins over embedding_dim


def test_frozen_embeddings_keep_pretrained_rows_and_train_the_rest(tmp_path: Path) -> None:
    path = _write("word2vec_text", tmp_path)
    model = fitted("embed_bag", embeddings="pretrained", vectors_path=str(path), freeze_embeddings=True)
    kv, table = load_vectors(path), model.net_.embedding.weight.detach().numpy()
    np.testing.assert_array_equal(table[model.vocab_.stoi["love"]], kv["love"])
    untouched = fitted("embed_bag", embeddings="pretrained", vectors_path=str(path), max_epochs=0)
    start = untouched.net_.embedding.weight.detach().numpy()
    assert not np.allclose(table[model.vocab_.stoi["wonderful"]], start[model.vocab_.stoi["wonderful"]])


def test_missing_vectors_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "glove.txt"
    with pytest.raises(FileNotFoundError, match="nowhere"):
        fitted("bilstm", embeddings="pretrained", vectors_path=str(missing))


@pytest.mark.parametrize(
    ("name", "content"),
    [("broken.bin", b"3 8\n\x00\x01garbage"), ("broken.txt", b"love not-a-number 0.1\n"), ("empty.vec", b"")],
)
def test_garbled_vectors_file_names_the_path(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValueError, match=name):
        load_vectors(path)


def test_epoch_callback_sees_each_epoch_and_can_stop_training() -> None:
    seen: list[tuple[int, float]] = []
    model = build_model("embed_bag", {**FAST, "max_epochs": 3, "patience": 5, "validation_fraction": 0.2})
    model.epoch_callback = lambda epoch, row: seen.append((epoch, row["val_accuracy"]))
    model.fit(*make_data())
    assert [e for e, _ in seen] == [1, 2, 3] and all(0 <= acc <= 1 for _, acc in seen)

    class PrunedError(Exception):
        pass

    def prune(epoch: int, row: dict[str, float]) -> None:
        raise PrunedError(f"epoch {epoch}")

    model = build_model("embed_bag", {**FAST, "max_epochs": 3})
    model.epoch_callback = prune
    with pytest.raises(PrunedError, match="epoch 1"):
        model.fit(*make_data())
