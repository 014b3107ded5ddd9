"""Export: a fine-tuned transformer → ONNX (int8) → parity check → a new registry version.

The exported folder is the same nlpops model folder plus ``model.onnx``; loading it predicts with
ONNX Runtime. It is registered only when its labels agree with the torch model's on at least
``min_agreement`` of the parity texts, so a broken export never reaches the registry.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nlpops.errors import ExportError, ParameterError, UsageError
from nlpops.models.base import TextClassifier, load_model_dir

MIN_AGREEMENT = 0.99


@dataclass
class Parity:
    """How the exported model agrees with the original on the same texts."""

    n: int
    agreement: float
    max_proba_diff: float
    torch_ms_per_text: float
    onnx_ms_per_text: float


@dataclass
class ExportResult:
    """What ``export-onnx`` produced: the parity figures and where the model went."""

    parity: Parity
    folder: Path
    size_mb: float
    model_uri: str | None = None
    registered: str | None = None
    version: str | None = None


def check_parity(original: TextClassifier, exported: TextClassifier, texts: list[str]) -> Parity:
    """Predict ``texts`` with both models: label agreement, largest probability gap, time per text."""
    started = time.perf_counter()
    p_orig = original.predict_proba(texts)
    torch_s = time.perf_counter() - started
    started = time.perf_counter()
    p_new = exported.predict_proba(texts)
    onnx_s = time.perf_counter() - started
    agree = float((p_orig.argmax(axis=1) == p_new.argmax(axis=1)).mean()) if len(texts) else 1.0
    return Parity(
        n=len(texts),
        agreement=agree,
        max_proba_diff=float(np.abs(p_orig - p_new).max()) if len(texts) else 0.0,
        torch_ms_per_text=1000 * torch_s / max(len(texts), 1),
        onnx_ms_per_text=1000 * onnx_s / max(len(texts), 1),
    )


def export_folder(model: TextClassifier, out: Path, int8: bool, full_int8: bool = False) -> Path:
    """Save ``model`` into ``out`` with its ONNX export (written to a temp folder, then renamed)."""
    from nlpops.models.hf.estimator import TransformerClassifier
    from nlpops.models.hf.onnx import export_onnx

    if not isinstance(model, TransformerClassifier):
        raise ParameterError(f"export-onnx needs a transformer model; this one is a {type(model).__name__}")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=".export-", dir=out.parent))
    model.save(partial)
    export_onnx(model, partial, int8=int8, full_int8=full_int8)
    partial.replace(out)
    return out


def export_model(
    uri: str,
    texts: list[str],
    out: Path,
    int8: bool = True,
    register: bool = True,
    promote: bool = False,
    full_int8: bool = False,
) -> ExportResult:
    """Export the transformer behind ``uri``, check parity on ``texts`` and log/register it.

    Args:
        uri: the source model (``models:/name@alias``, ``runs:/…``, a folder).
        texts: parity texts (e.g. the config's test split).
        out: folder for the exported model (must not exist).
        int8: quantise the weights to int8.
        register: log the export as an MLflow run and, for a ``models:/`` URI, a new version of
            the same registered model with the alias ``onnx``.
        promote: also move ``@champion`` to the new version.
        full_int8: quantise every MatMul (faster; parity near the bar).

    Raises:
        ExportError: parity below ``MIN_AGREEMENT`` (nothing is registered); UsageError: ``out`` exists.
    """
    from nlpops.tracking import load_estimator

    if out.exists():
        raise UsageError(f"{out}: already exists; choose a new --out folder")
    source = load_estimator(uri)
    folder = export_folder(source.model, out, int8, full_int8)
    _copy_profile(source.folder, folder)
    exported = load_model_dir(folder)
    parity = check_parity(source.model, exported, texts)
    size = (folder / "model.onnx").stat().st_size / 2**20
    result = ExportResult(parity=parity, folder=folder, size_mb=size)
    if parity.agreement < MIN_AGREEMENT:
        raise ExportError(
            f"ONNX parity too low: labels agree on {parity.agreement:.2%} of {parity.n} texts "
            f"(< {MIN_AGREEMENT:.0%}); nothing registered (the export is in {folder} for inspection)"
        )
    if register:
        _log_and_register(source, exported, result, texts[:3], int8, promote)
    return result


def _copy_profile(source: Path | None, folder: Path) -> None:
    """Give the export the source's drift reference: it may become the champion (``--promote``), and
    the service checks drift only for a model whose folder holds one. The same vocabulary and
    validation texts; its predictions match the source's on the parity texts."""
    import shutil

    from nlpops.drift import PROFILE_FILE

    if source is not None and (source / PROFILE_FILE).is_file():
        shutil.copy2(source / PROFILE_FILE, folder / PROFILE_FILE)


def _log_and_register(
    source: Any, model: TextClassifier, result: ExportResult, examples: list[str], int8: bool, promote: bool
) -> None:
    """Log the exported folder as a run in the source's experiment; register it under the same name."""
    import mlflow
    from mlflow import MlflowClient

    from nlpops.tracking import CHAMPION, log_model, setup_tracking

    setup_tracking()
    client = MlflowClient()
    experiment = client.get_run(source.run_id).info.experiment_id if source.run_id else None
    with mlflow.start_run(run_name=f"{source.name}-onnx", experiment_id=experiment):
        mlflow.set_tags(
            {"kind": "transformer", "format": "onnx-int8" if int8 else "onnx", "source": source.uri}
        )
        p = result.parity
        mlflow.log_metrics(
            {
                "parity_agreement": p.agreement,
                "parity_max_proba_diff": p.max_proba_diff,
                "onnx_ms_per_text": p.onnx_ms_per_text,
                "torch_ms_per_text": p.torch_ms_per_text,
                "size_mb": result.size_mb,
            }
        )
        result.model_uri = log_model(model, result.folder, examples or ["example"])
        run_id = mlflow.active_run().info.run_id  # type: ignore[union-attr]
    if not source.uri.startswith("models:/"):
        return
    mv = mlflow.register_model(result.model_uri, source.name, tags={"run_id": run_id, "format": "onnx"})
    result.registered, result.version = source.name, str(mv.version)
    client.set_registered_model_alias(source.name, "onnx", result.version)
    if promote:
        client.set_registered_model_alias(source.name, CHAMPION, result.version)
