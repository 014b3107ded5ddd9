"""Evaluate a text classifier: metrics overall, per class and per slice, speed, size and plots.

Everything works on ``predict_proba`` output whose columns follow ``classes`` (the model's sorted
label strings), so any nlpops model, or any scikit-learn pipeline on raw text, can be evaluated.

>>> m = compute_metrics(["neg", "pos"], np.array([[0.9, 0.1], [0.2, 0.8]]), ["neg", "pos"])
>>> m["accuracy"], m["roc_auc"]
(1.0, 1.0)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import sklearn.metrics as skm

from nlpops.errors import DataError, ParameterError
from nlpops.models.base import predicted_labels
from nlpops.plots import comparison_plots as comparison_plots  # re-exported: the report imports it here
from nlpops.plots import save_plots
from nlpops.slices import SLICES
from nlpops.speed import measure_latency as measure_latency  # re-exported: benches import it here
from nlpops.speed import model_size_mb as model_size_mb

PROBA_EPS = 1e-15  # log loss clips the true-class probability to [eps, 1]
MIN_SLICE_SIZE = 5  # smaller slices get NaN metrics: too few rows to mean anything

Labels = Sequence[str] | np.ndarray


class ProbabilisticClassifier(Protocol):
    """What evaluation needs from a model: ``classes_`` and ``predict_proba`` on a list of texts."""

    @property
    def classes_(self) -> Any: ...

    def predict_proba(self, texts: Any) -> Any: ...


@dataclass
class EvaluationResult:
    """What :func:`evaluate_model` measures; ``metrics`` is flat, ready for ``mlflow.log_metrics``."""

    metrics: dict[str, float]
    per_class: pd.DataFrame
    confusion: pd.DataFrame
    slices: pd.DataFrame
    plots: list[Path]
    n_skipped: int


# --- overall metrics -------------------------------------------------------------------------------
def _check_inputs(y_true: Labels, proba: np.ndarray, classes: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Validate shapes and labels; return ``y_true`` as column indices and ``proba`` as a float array."""
    proba = np.asarray(proba, dtype=float)
    if len(classes) < 2:
        raise ValueError(f"need at least two classes, got {list(classes)}")
    if proba.ndim != 2 or proba.shape != (len(y_true), len(classes)):
        raise ValueError(f"proba has shape {proba.shape}, expected ({len(y_true)}, {len(classes)})")
    if len(y_true) == 0:
        raise DataError("nothing to evaluate: y_true is empty")
    index = {str(c): i for i, c in enumerate(classes)}
    unknown = sorted({str(y) for y in y_true} - index.keys())
    if unknown:
        raise DataError(f"labels not in classes {list(index)}: {unknown[:5]}; drop those rows first")
    return np.asarray([index[str(y)] for y in y_true], dtype=int), proba


def _positive_index(classes: Sequence[str], positive_label: str | None) -> int:
    """Column of the positive class: ``positive_label`` if given, else the last class."""
    if positive_label is None:
        return len(classes) - 1
    names = [str(c) for c in classes]
    if positive_label not in names:
        raise ParameterError(f"positive_label {positive_label!r} is not one of the classes {names}")
    return names.index(positive_label)


def _ranking_metrics(y_idx: np.ndarray, proba: np.ndarray, pos: int) -> tuple[float, float]:
    """ROC AUC and average precision: of class ``pos`` if binary, else one-vs-rest macro.

    NaN when a class needed is absent from ``y_true``: a macro over a subset of classes would not be
    comparable between runs.
    """
    columns = [pos] if proba.shape[1] == 2 else range(proba.shape[1])
    aucs, aps = [], []
    for j in columns:
        target = y_idx == j
        if target.all() or not target.any():
            return float("nan"), float("nan")
        aucs.append(skm.roc_auc_score(target, proba[:, j]))
        aps.append(skm.average_precision_score(target, proba[:, j]))
    return float(np.mean(aucs)), float(np.mean(aps))


def compute_metrics(
    y_true: Labels,
    proba: np.ndarray,
    classes: Sequence[str],
    positive_label: str | None = None,
    y_pred: Labels | None = None,
) -> dict[str, float]:
    """Overall quality of probabilistic predictions.

    Args:
        y_true (Sequence[str]): True labels; every one must be in ``classes`` (else ValueError).
        proba (np.ndarray): Probabilities, shape (n, len(classes)), columns in ``classes`` order.
        classes (Sequence[str]): Class labels, in the column order of ``proba``.
        positive_label (str | None): Positive class of a binary problem; default the last class.
        y_pred (Sequence[str] | None): Predicted labels (e.g. after a decision threshold); default argmax.

    Returns:
        dict[str, float]: ``accuracy``, ``macro_f1`` (over labels seen in y_true or predictions),
        ``positive_f1`` (F1 of the positive class; NaN for multi-class),
        ``roc_auc`` and ``pr_auc`` (binary: positive class; multi-class: one-vs-rest macro; NaN
        when a class is absent from y_true), ``log_loss`` (true-class probability clipped at 1e-15),
        ``brier`` (binary only, NaN for multi-class) and ``n``.
    """
    y_idx, proba = _check_inputs(y_true, proba, classes)
    pos = _positive_index(classes, positive_label)
    pred_idx = proba.argmax(axis=1) if y_pred is None else _check_inputs(y_pred, proba, classes)[0]
    roc_auc, pr_auc = _ranking_metrics(y_idx, proba, pos)
    true_proba = np.clip(proba[np.arange(len(y_idx)), y_idx], PROBA_EPS, 1.0)
    binary = len(classes) == 2
    positive_f1 = skm.f1_score(y_idx == pos, pred_idx == pos, zero_division=0) if binary else float("nan")
    return {
        "accuracy": float(np.mean(pred_idx == y_idx)),
        "macro_f1": float(skm.f1_score(y_idx, pred_idx, average="macro", zero_division=0)),
        "positive_f1": float(positive_f1),
        "roc_auc": roc_auc,
        "pr_auc": pr_auc,
        "log_loss": float(-np.mean(np.log(true_proba))),
        "brier": float(np.mean((proba[:, pos] - (y_idx == pos)) ** 2)) if binary else float("nan"),
        "n": len(y_idx),
    }


def per_class_report(y_true: Labels, y_pred: Labels, classes: Sequence[str]) -> pd.DataFrame:
    """Precision, recall, F1 and support of each class (0 where undefined), one row per class."""
    labels = [str(c) for c in classes]
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        [str(y) for y in y_true], [str(y) for y in y_pred], labels=labels, zero_division=0
    )
    return pd.DataFrame(
        {"precision": precision, "recall": recall, "f1": f1, "support": support},
        index=pd.Index(labels, name="class"),
    )


def confusion(y_true: Labels, y_pred: Labels, classes: Sequence[str]) -> pd.DataFrame:
    """Confusion counts: rows are true classes, columns predicted classes, both in ``classes`` order."""
    labels = [str(c) for c in classes]
    counts = skm.confusion_matrix([str(y) for y in y_true], [str(y) for y in y_pred], labels=labels)
    return pd.DataFrame(
        counts, index=pd.Index(labels, name="true"), columns=pd.Index(labels, name="predicted")
    )


# --- slices ----------------------------------------------------------------------------------------
def slice_metrics(
    texts: Sequence[str],
    y_true: Labels,
    y_pred: Labels,
    slices: Mapping[str, Callable[[str], bool]] | None = None,
) -> pd.DataFrame:
    """Size, share, accuracy and macro F1 of each slice of the data (NaN metrics below 5 rows).

    The predictions are the model's own decisions (its tuned threshold included), computed once by
    the caller: the slices then describe the same classifier as the overall metrics.

    Args:
        texts (Sequence[str]): Raw texts, aligned with ``y_true`` and ``y_pred``.
        y_true (Sequence[str]): True labels.
        y_pred (Sequence[str]): Predicted labels (``models.base.predicted_labels``).
        slices (Mapping[str, Callable[[str], bool]] | None): Name -> predicate; default :data:`SLICES`.

    Returns:
        pd.DataFrame: Indexed by slice name, columns ``n``, ``share``, ``accuracy``, ``macro_f1``.
    """
    y_idx = np.asarray([str(v) for v in y_true])
    y_pred = np.asarray([str(v) for v in y_pred])
    if not len(texts) == len(y_idx) == len(y_pred):
        raise ValueError(f"got {len(texts)} texts, {len(y_idx)} labels and {len(y_pred)} predictions")
    rows = []
    for name, predicate in (SLICES if slices is None else slices).items():
        mask = np.fromiter((bool(predicate(t)) for t in texts), dtype=bool, count=len(texts))
        n = int(mask.sum())
        accuracy = macro_f1 = float("nan")
        if n >= MIN_SLICE_SIZE:
            accuracy = float(np.mean(y_pred[mask] == y_idx[mask]))
            macro_f1 = float(skm.f1_score(y_idx[mask], y_pred[mask], average="macro", zero_division=0))
        rows.append(
            {"slice": name, "n": n, "share": n / len(texts), "accuracy": accuracy, "macro_f1": macro_f1}
        )
    return pd.DataFrame(rows).set_index("slice")


# --- entry point -----------------------------------------------------------------------------------
def known_rows(
    model: ProbabilisticClassifier, texts: list[str], labels: list[str]
) -> tuple[list[str], list[str]]:
    """The texts and labels whose label the model knows (a binary model skips neutral rows)."""
    if len(texts) != len(labels):
        raise ValueError(f"got {len(texts)} texts but {len(labels)} labels")
    classes = [str(c) for c in model.classes_]
    known = set(classes)
    keep = [i for i, label in enumerate(labels) if str(label) in known]
    if not keep:
        raise DataError(f"none of the {len(labels)} labels is one of the model's classes {classes}")
    return [texts[i] for i in keep], [str(labels[i]) for i in keep]


def score_model(
    model: ProbabilisticClassifier, texts: list[str], labels: list[str], positive_label: str | None = None
) -> dict[str, float]:
    """Overall metrics only (no slices, speed or plots) on the rows whose label the model knows."""
    kept_texts, y_true = known_rows(model, texts, labels)
    proba = np.asarray(model.predict_proba(kept_texts), dtype=float)
    classes = [str(c) for c in model.classes_]
    return compute_metrics(y_true, proba, classes, positive_label, predicted_labels(model, proba))


def evaluate_model(
    model: ProbabilisticClassifier,
    texts: list[str],
    labels: list[str],
    out_dir: Path | None = None,
    measure_speed: bool = True,
    positive_label: str | None = None,
) -> EvaluationResult:
    """Evaluate ``model`` on labelled texts: metrics overall, per class, per slice, speed and plots.

    Rows whose label is not one of ``model.classes_`` (e.g. neutral rows for a binary model) are
    skipped and counted in ``n_skipped``.

    Args:
        model (ProbabilisticClassifier): A fitted classifier on raw text.
        texts (list[str]): Raw texts.
        labels (list[str]): True labels, aligned with ``texts``.
        out_dir (Path | None): Folder for the PNG plots; no plots when None.
        measure_speed (bool): Also time ``predict_proba`` (see :func:`measure_latency`).
        positive_label (str | None): Positive class of a binary model; default the last class.

    Returns:
        EvaluationResult: ``metrics`` holds the overall metrics, ``n_skipped``, ``slice_<name>_accuracy``
        and ``slice_<name>_macro_f1`` for each slice, and the latency metrics if measured.
    """
    classes = [str(c) for c in model.classes_]
    kept_texts, y_true = known_rows(model, texts, labels)
    proba = np.asarray(model.predict_proba(kept_texts), dtype=float)
    y_pred = predicted_labels(model, proba)
    slices = slice_metrics(kept_texts, y_true, y_pred)
    n_skipped = len(labels) - len(y_true)
    metrics = {**compute_metrics(y_true, proba, classes, positive_label, y_pred), "n_skipped": n_skipped}
    for name, row in slices.iterrows():
        metrics[f"slice_{name}_accuracy"] = float(row["accuracy"])
        metrics[f"slice_{name}_macro_f1"] = float(row["macro_f1"])
    if measure_speed:
        metrics.update(measure_latency(model, kept_texts))
    plots = []
    if out_dir is not None:
        plots = save_plots(y_true, proba, classes, Path(out_dir), type(model).__name__, positive_label)
    return EvaluationResult(
        metrics=metrics,
        per_class=per_class_report(y_true, y_pred, classes),
        confusion=confusion(y_true, y_pred, classes),
        slices=slices,
        plots=plots,
        n_skipped=n_skipped,
    )


def write_evaluation(result: EvaluationResult, folder: Path) -> list[Path]:
    """Write ``metrics.json`` (NaN as null) and the per-class, confusion and slice tables, each as
    CSV (for tools) and Markdown (to read); returns the written files."""
    folder.mkdir(parents=True, exist_ok=True)
    metrics = {key: (None if value != value else value) for key, value in result.metrics.items()}
    written = [folder / "metrics.json"]
    written[0].write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    for name in ("per_class", "confusion", "slices"):
        table: pd.DataFrame = getattr(result, name)
        table.to_csv(folder / f"{name}.csv")
        formats = [
            "",
            *(".4f" if pd.api.types.is_float_dtype(t) else "g" for t in table.dtypes),
        ]  # index first
        (folder / f"{name}.md").write_text(table.to_markdown(floatfmt=formats) + "\n", encoding="utf-8")
        written += [folder / f"{name}.csv", folder / f"{name}.md"]
    return written
