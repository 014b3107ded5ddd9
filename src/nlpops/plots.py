"""Evaluation plots written as PNG files: confusion matrix, calibration, ROC and PR curves, run comparisons.

matplotlib is imported inside the functions (on the file-only Agg backend), so importing nlpops stays cheap
and works on machines without a display.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

from nlpops.errors import DataError, ParameterError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# (curve label, boolean target, score of that class) for each one-vs-rest curve
Target = tuple[str, np.ndarray, np.ndarray]


def _pyplot() -> Any:
    """Return pyplot on the Agg backend (set here, not at import, per the project style)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Figure, path: Path) -> Path:
    """Write ``fig`` to ``path`` and free it (pyplot keeps every open figure alive)."""
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    _pyplot().close(fig)
    return path


def _encode(y_true: Sequence[str], classes: Sequence[str]) -> np.ndarray:
    """Map labels to column indices of ``proba``; unknown labels raise a ValueError."""
    index = {str(c): i for i, c in enumerate(classes)}
    unknown = sorted({str(y) for y in y_true} - index.keys())
    if unknown:
        raise DataError(f"labels not in classes {list(index)}: {unknown[:5]}")
    return np.asarray([index[str(y)] for y in y_true], dtype=int)


def _targets(y_idx: np.ndarray, proba: np.ndarray, classes: Sequence[str], pos: int) -> list[Target]:
    """One-vs-rest targets: the positive class if binary, else every class; absent classes are dropped."""
    columns = [pos] if len(classes) == 2 else range(len(classes))
    targets = [(str(classes[j]), y_idx == j, proba[:, j]) for j in columns]
    return [t for t in targets if 0 < t[1].sum() < len(t[1])]


def _plot_confusion(
    y_idx: np.ndarray, proba: np.ndarray, classes: Sequence[str], path: Path, title: str
) -> Path:
    """Confusion matrix normalised by true class (rows are recalls), annotated with rate and count."""
    k = len(classes)
    counts = np.zeros((k, k), dtype=int)
    np.add.at(counts, (y_idx, proba.argmax(axis=1)), 1)
    totals = counts.sum(axis=1, keepdims=True)
    rates = np.divide(counts, totals, out=np.zeros((k, k)), where=totals > 0)
    side = min(2.5 + 1.1 * k, 14.0)
    fig, ax = _pyplot().subplots(figsize=(side + 1, side))
    image = ax.imshow(rates, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(image, ax=ax)
    for i in range(k):
        for j in range(k):
            color = "white" if rates[i, j] > 0.5 else "black"
            ax.text(j, i, f"{rates[i, j]:.2f}\n({counts[i, j]})", ha="center", va="center", color=color)
    ax.set_xticks(range(k), labels=list(classes), rotation=45, ha="right")
    ax.set_yticks(range(k), labels=list(classes))
    ax.set(xlabel="predicted", ylabel="true", title=f"{title}: confusion (row-normalised)")
    return _save(fig, path)


def _draw_calibration(ax: Axes, name: str, target: np.ndarray, score: np.ndarray) -> None:
    frac_pos, mean_pred = calibration_curve(target, score, n_bins=10, strategy="quantile")
    ax.plot(mean_pred, frac_pos, marker="o", label=name)


def _draw_roc(ax: Axes, name: str, target: np.ndarray, score: np.ndarray) -> None:
    fpr, tpr, _ = roc_curve(target, score)
    ax.plot(fpr, tpr, label=f"{name} (AUC {roc_auc_score(target, score):.3f})")


def _draw_pr(ax: Axes, name: str, target: np.ndarray, score: np.ndarray) -> None:
    precision, recall, _ = precision_recall_curve(target, score)
    ax.plot(recall, precision, label=f"{name} (AP {average_precision_score(target, score):.3f})")


# file name, title, drawing function, (x label, y label), draw the y = x reference line
_CURVES = (
    (
        "calibration",
        "calibration",
        _draw_calibration,
        ("mean predicted probability", "fraction of positives"),
        True,
    ),
    ("roc", "ROC curve", _draw_roc, ("false positive rate", "true positive rate"), True),
    ("pr", "precision-recall curve", _draw_pr, ("recall", "precision"), False),
)


def _plot_curves(
    targets: list[Target],
    draw: Callable[[Axes, str, np.ndarray, np.ndarray], None],
    path: Path,
    title: str,
    axis_labels: tuple[str, str],
    diagonal: bool,
) -> Path:
    """One figure with one curve per target, drawn by ``draw``."""
    fig, ax = _pyplot().subplots(figsize=(6, 5))
    if diagonal:
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="reference")
    for name, target, score in targets:
        draw(ax, name, target, score)
    if not targets:
        ax.text(0.5, 0.5, "needs positives and negatives in y_true", ha="center", va="center")
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel=axis_labels[0], ylabel=axis_labels[1], title=title)
    ax.legend(loc="best", fontsize="small")
    return _save(fig, path)


def save_plots(
    y_true: Sequence[str],
    proba: np.ndarray,
    classes: Sequence[str],
    out_dir: Path,
    title: str,
    positive_label: str | None = None,
) -> list[Path]:
    """Save the confusion matrix, calibration, ROC and PR plots of one model as PNG files.

    Binary problems get curves of the positive class (the last class unless ``positive_label``);
    multi-class problems get one one-vs-rest curve per class present in ``y_true``.

    Args:
        y_true (Sequence[str]): True labels, all in ``classes``.
        proba (np.ndarray): Probabilities, shape (n, len(classes)), columns in ``classes`` order.
        classes (Sequence[str]): Class labels, in the column order of ``proba``.
        out_dir (Path): Folder for the PNG files (created if needed).
        title (str): Prefix of every plot title, e.g. the model name.
        positive_label (str | None): Positive class of a binary problem.

    Returns:
        list[Path]: The written files: confusion_matrix, calibration, roc and pr PNGs.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    proba = np.asarray(proba, dtype=float)
    y_idx = _encode(y_true, classes)
    names = [str(c) for c in classes]
    if positive_label is not None and positive_label not in names:
        raise ParameterError(f"positive_label {positive_label!r} is not one of the classes {names}")
    pos = len(names) - 1 if positive_label is None else names.index(positive_label)
    targets = _targets(y_idx, proba, classes, pos)
    paths = [_plot_confusion(y_idx, proba, classes, out_dir / "confusion_matrix.png", title)]
    for name, curve, draw, axis_labels, diagonal in _CURVES:
        path = out_dir / f"{name}.png"
        paths.append(_plot_curves(targets, draw, path, f"{title}: {curve}", axis_labels, diagonal))
    return paths


def _run_names(results: pd.DataFrame) -> list[str]:
    """A label per run: the ``run`` column if any, else the model name with its recipe (if not "-")."""
    if "run" in results:
        return [str(v) for v in results["run"]]
    names = results["model"] if "model" in results else pd.Series(results.index, index=results.index)
    names = names.astype(str)
    if "recipe" in results:
        recipes = results["recipe"].fillna("-").astype(str)
        names = names.where(recipes.isin(["-", ""]), names + " / " + recipes)
    return list(names)


def comparison_plots(results: pd.DataFrame, out_dir: Path, metric: str = "macro_f1") -> list[Path]:
    """Plot a table of runs: a bar chart of ``metric`` per run and quality vs p50 latency (log x).

    Args:
        results (pd.DataFrame): One row per run, with ``metric`` and ideally ``model``, ``recipe``
            and ``latency_p50_ms`` columns.
        out_dir (Path): Folder for the PNG files (created if needed).
        metric (str): The quality column to plot.

    Returns:
        list[Path]: The bar chart, then the scatter plot when the table has latencies.
    """
    if metric not in results:
        raise ValueError(f"results has no {metric!r} column (columns: {list(results.columns)})")
    out_dir.mkdir(parents=True, exist_ok=True)
    table = results.assign(_name=_run_names(results)).dropna(subset=[metric]).sort_values(metric)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 1.5 + 0.4 * len(table)))
    # numeric positions: two runs with the same name still get a bar each
    bars = ax.barh(range(len(table)), table[metric], color="tab:blue")
    ax.set_yticks(range(len(table)), labels=list(table["_name"]))
    ax.bar_label(bars, fmt="%.3f", padding=2)
    ax.margins(x=0.12)  # room for the value labels
    ax.set(xlabel=metric, title=f"{metric} per run")
    paths = [_save(fig, out_dir / f"{metric}_per_run.png")]
    if "latency_p50_ms" not in table:
        return paths
    timed = table[(table["latency_p50_ms"] > 0) & np.isfinite(table["latency_p50_ms"])]
    fig, ax = plt.subplots(figsize=(7, 5))
    ax.scatter(timed["latency_p50_ms"], timed[metric], color="tab:orange")
    for _, row in timed.iterrows():
        point = (row["latency_p50_ms"], row[metric])
        ax.annotate(row["_name"], point, xytext=(4, 4), textcoords="offset points", fontsize="small")
    ax.set_xscale("log")
    ax.margins(x=0.25, y=0.1)  # room for the run names
    ax.set(xlabel="latency p50 per text (ms, log)", ylabel=metric, title=f"{metric} vs latency")
    paths.append(_save(fig, out_dir / f"{metric}_vs_latency.png"))
    return paths
