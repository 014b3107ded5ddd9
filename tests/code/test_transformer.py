"""The transformer and sentence_lr kinds: fine-tuning, windows, persistence, ONNX, offline hub ids.

Tiny randomly initialised BERT / DistilBERT configs (hidden size 32) are built here and saved to
a temp dir, so these tests run in seconds; one test loads the real all-MiniLM-L6-v2 offline.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("transformers")

import itertools

from hf_support import tiny_checkpoint
from nlpops.models import build_model, load_model_dir
from nlpops.models.hf.checkpoints import CheckpointError, resolve_checkpoint
from nlpops.models.hf.windows import choose_max_length, encode_windows

POS = ["i love this airline", "great flight thanks", "what a lovely crew", "best trip ever"]
NEG = ["awful delay again", "worst service ever", "lost my bag, terrible", "rude staff and late"]
TEXTS = (POS + NEG) * 8
LABELS = (["positive"] * 4 + ["negative"] * 4) * 8


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> str:
    return tiny_checkpoint(tmp_path_factory.mktemp("ckpt"), "bert")


@pytest.fixture(scope="module")
def fitted(tiny_bert: str) -> object:
    params = {
        "checkpoint": tiny_bert,
        "max_epochs": 6,
        "learning_rate": 3e-3,
        "batch_size": 8,
        "validation_fraction": 0.25,
        "patience": 10,
        "random_state": 1,
        "warmup_ratio": 0.0,
        "n_jobs": 1,
    }
    return build_model("transformer", params).fit(TEXTS, LABELS)


def _log_loss(model: object, texts: list[str], labels: list[str]) -> float:
    proba = model.predict_proba(texts)  # type: ignore[attr-defined]
    idx = np.searchsorted(model.classes_, labels)  # type: ignore[attr-defined]
    return float(-np.log(proba[np.arange(len(texts)), idx] + 1e-12).mean())


@pytest.mark.training
def test_fine_tuning_lowers_the_loss(tiny_bert: str, fitted: object) -> None:
    untrained = build_model(
        "transformer",
        {
            "checkpoint": tiny_bert,
            "max_epochs": 1,
            "learning_rate": 1e-12,
            "validation_fraction": 0,
            "random_state": 1,
        },
    )
    untrained.fit(TEXTS, LABELS)
    assert _log_loss(fitted, TEXTS, LABELS) < _log_loss(untrained, TEXTS, LABELS) - 0.05
    history = fitted.history_  # type: ignore[attr-defined]
    assert len(history) >= 2 and history[-1]["train_loss"] < history[0]["train_loss"]
    assert {"val_loss", "val_accuracy", "samples", "step"} <= set(history[0])


def test_contract_and_roundtrip(fitted: object, tmp_path: Path) -> None:
    proba = fitted.predict_proba(TEXTS)  # type: ignore[attr-defined]
    assert proba.shape == (len(TEXTS), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert list(fitted.classes_) == ["negative", "positive"]  # type: ignore[attr-defined]
    assert fitted.get_params()["checkpoint"]  # type: ignore[attr-defined]
    loaded = load_model_dir(fitted.save(tmp_path / "m"))  # type: ignore[attr-defined]
    np.testing.assert_allclose(loaded.predict_proba(TEXTS), proba, atol=1e-6)
    assert loaded.max_length_ == fitted.max_length_  # type: ignore[attr-defined]


def test_max_length_from_percentile_and_always_honoured(fitted: object) -> None:
    tok = fitted.tokenizer_  # type: ignore[attr-defined]
    lengths = [len(ids) for ids in tok(TEXTS)["input_ids"]]
    assert fitted.max_length_ == max(16, int(np.ceil(np.percentile(lengths, 95))))  # type: ignore[attr-defined]
    windows = fitted._windows([" ".join(["delay"] * 300)])  # type: ignore[attr-defined]
    assert max(windows.lengths) <= fitted.max_length_  # type: ignore[attr-defined]


def test_long_text_windows_cover_the_whole_text(tiny_bert: str) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_bert)
    words = [f"w{i}" for i in range(200)]
    text = " ".join(words)
    windows = encode_windows(tok, [text, "short one"], max_length=24, stride=6)
    assert list(np.bincount(windows.owner))[1] == 1 and np.bincount(windows.owner)[0] > 5
    body = [ids[1:-1] for ids, o in zip(windows.ids, windows.owner, strict=True) if o == 0]
    rebuilt = list(body[0])
    for prev, cur in itertools.pairwise(body):
        assert list(prev[-6:]) == list(cur[:6])  # consecutive windows overlap by the stride
        rebuilt += list(cur[6:])
    assert rebuilt == tok(text, add_special_tokens=False)["input_ids"]
    assert all(len(ids) <= 24 for ids in windows.ids)
    with pytest.raises(ValueError, match="window_stride"):
        encode_windows(tok, [text], max_length=24, stride=22)


def test_choose_max_length_is_bounded(tiny_bert: str) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_bert)
    assert choose_max_length(tok, ["a"] * 10) == 16
    assert choose_max_length(tok, [" ".join(["word"] * 900)] * 3, cap=128) == 128


def test_distilbert_architecture_and_frozen_layers(tmp_path: Path) -> None:
    ckpt = tiny_checkpoint(tmp_path, "distilbert")
    clf = build_model(
        "transformer",
        {
            "checkpoint": ckpt,
            "max_epochs": 1,
            "freeze_embeddings": True,
            "freeze_layers": 1,
            "validation_fraction": 0,
        },
    )
    clf.fit(TEXTS[:16], LABELS[:16])
    frozen = {n for n, p in clf.model_.named_parameters() if not p.requires_grad}  # type: ignore[attr-defined]
    assert any("embeddings" in n for n in frozen) and any("layer.0." in n for n in frozen)
    assert not any("layer.1." in n for n in frozen)
    assert clf.predict(["great"]).shape == (1,)


@pytest.mark.parametrize(("int8", "full_int8"), [(False, False), (True, False), (True, True)])
def test_onnx_export_parity(fitted: object, tmp_path: Path, int8: bool, full_int8: bool) -> None:
    from nlpops.export import check_parity, export_folder
    from nlpops.models.hf.onnx import after_gelu

    folder = export_folder(fitted, tmp_path / "onnx", int8=int8, full_int8=full_int8)  # type: ignore[arg-type]
    exported = load_model_dir(folder)
    assert type(exported.onnx_).__name__ == "OnnxLogits"  # type: ignore[attr-defined]
    parity = check_parity(fitted, exported, [*TEXTS, "a much longer text " * 40])  # type: ignore[arg-type]
    assert parity.agreement == 1.0
    assert parity.max_proba_diff < (0.05 if int8 else 1e-4)
    import onnx

    ops = {node.op_type for node in onnx.load(str(folder / "model.onnx")).graph.node}
    assert "SkipLayerNormalization" in ops  # ONNX Runtime's BERT fusions were applied
    if int8:
        assert ops & {"MatMulInteger", "DynamicQuantizeMatMul"}
    # the feed-forward output projections (fed by GELU) stay float32 unless full_int8
    assert bool(after_gelu(folder / "model.onnx")) == (not full_int8)


def test_export_refuses_other_models(tmp_path: Path) -> None:
    from nlpops.export import export_folder

    clf = build_model("tfidf_lr", {}).fit(TEXTS, LABELS)
    with pytest.raises(TypeError, match="transformer"):
        export_folder(clf, tmp_path / "x", int8=True)
    assert not (tmp_path / "x").exists()


def test_hub_id_offline_fails_fast_with_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    started = time.perf_counter()
    with pytest.raises(CheckpointError, match=r"hub id.*local folder"):
        resolve_checkpoint("distilbert-base-uncased-not-cached")
    clf = build_model("transformer", {"checkpoint": "camembert-base-not-cached"})
    with pytest.raises(CheckpointError, match="camembert-base-not-cached"):
        clf.fit(TEXTS, LABELS)
    assert time.perf_counter() - started < 5


def test_bad_local_checkpoint_is_named(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=r"no config\.json"):
        resolve_checkpoint(str(tmp_path))
    with pytest.raises(CheckpointError, match="no such model folder"):
        resolve_checkpoint(str(tmp_path / "missing"))


def test_real_minilm_loads_offline_and_predicts(tmp_path: Path) -> None:
    clf = build_model("sentence_lr", {"checkpoint": "minilm", "C": 10.0}).fit(TEXTS, LABELS)
    assert list(clf.predict(["i love this crew", "terrible and rude staff"])) == ["positive", "negative"]
    loaded = load_model_dir(clf.save(tmp_path / "s"))
    assert not (tmp_path / "s" / "encoder").exists()  # the shipped MiniLM is referenced, not copied
    np.testing.assert_allclose(loaded.predict_proba(TEXTS[:8]), clf.predict_proba(TEXTS[:8]), atol=1e-6)
    ft = build_model(
        "transformer",
        {
            "checkpoint": "minilm",
            "max_epochs": 1,
            "max_train_samples": 16,
            "validation_fraction": 0,
            "batch_size": 8,
        },
    )
    ft.fit(TEXTS, LABELS)
    assert ft.n_train_samples_ == 16 and ft.predict_proba(["fine"]).shape == (1, 2)  # type: ignore[attr-defined]


def test_export_onnx_cli_registers_a_checked_version(
    fitted: object, mlflow_store: str, tmp_path: Path
) -> None:
    import mlflow
    from mlflow import MlflowClient
    from typer.testing import CliRunner

    from nlpops.cli import app
    from nlpops.drift import Profile, build_profile
    from nlpops.tracking import CHAMPION, load_estimator, log_model, setup_tracking

    setup_tracking("export-test")
    folder = fitted.save(tmp_path / "src")  # type: ignore[attr-defined]
    profile = build_profile(fitted, TEXTS, TEXTS)
    profile.save(folder)  # as nlpops train saves it
    with mlflow.start_run():
        uri = log_model(fitted, folder, TEXTS[:3])  # type: ignore[arg-type]
    v1 = mlflow.register_model(uri, "tweets").version
    MlflowClient().set_registered_model_alias("tweets", CHAMPION, v1)
    data = tmp_path / "parity.csv"
    pd.DataFrame({"text": TEXTS, "label": LABELS}).to_csv(data, index=False)
    out = tmp_path / "exported"
    args = ["export-onnx", "--model", "models:/tweets@champion", "--out", str(out), "--data", str(data)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "labels agree 100.00%" in result.output
    client = MlflowClient()
    onnx_version = client.get_model_version_by_alias("tweets", "onnx")
    assert int(onnx_version.version) == int(v1) + 1
    assert client.get_model_version_by_alias("tweets", CHAMPION).version == v1  # no --promote
    served = load_estimator("models:/tweets@onnx")
    assert type(served.model.onnx_).__name__ == "OnnxLogits"  # type: ignore[attr-defined]
    assert served.folder and Profile.load(served.folder).to_json() == profile.to_json()  # drift still checked
    again = CliRunner().invoke(app, args)  # the output folder exists now: one clear line, exit 1
    assert again.exit_code == 1 and "already exists" in again.output


def test_export_onnx_cli_needs_parity_texts(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from nlpops.cli import app

    result = CliRunner().invoke(app, ["export-onnx", "--model", str(tmp_path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "--config" in result.output and "Traceback" not in result.output
