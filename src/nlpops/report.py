"""The comparison report: one table of every run (quality, training time, latency, size) with plots."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from nlpops.errors import TrackingError
from nlpops.outputs import staged_dir

COLUMNS = {
    "tags.mlflow.runName": "run",
    "tags.model": "model",
    "tags.kind": "kind",
    "tags.recipe": "recipe",
    "metrics.test_accuracy": "accuracy",
    "metrics.test_macro_f1": "macro_f1",
    "metrics.test_roc_auc": "roc_auc",
    "metrics.test_positive_f1": "positive_f1",  # binary: F1 of positive_label, after the decision threshold
    "metrics.decision_threshold": "threshold",  # tune_threshold: true
    "metrics.test_log_loss": "log_loss",
    "metrics.train_time_s": "train_time_s",
    "metrics.train_time_vs_fasttext": "train_vs_fasttext",
    "metrics.test_latency_p50_ms": "latency_p50_ms",
    "metrics.test_latency_p99_ms": "latency_p99_ms",
    "metrics.test_throughput_texts_per_s": "texts_per_s",
    "metrics.size_mb": "size_mb",
}


def runs_table(experiment: str | None = None) -> pd.DataFrame:
    """Every finished run of ``experiment`` (or of all experiments) as one tidy row each."""
    import mlflow

    from nlpops.tracking import setup_tracking

    setup_tracking()
    if experiment is not None and mlflow.get_experiment_by_name(experiment) is None:
        raise TrackingError(f"no MLflow experiment named {experiment!r} in {mlflow.get_tracking_uri()}")
    names = [experiment] if experiment else [e.name for e in mlflow.search_experiments()]
    runs = mlflow.search_runs(experiment_names=names, filter_string="attributes.status = 'FINISHED'")
    if not isinstance(runs, pd.DataFrame) or runs.empty:
        raise TrackingError(
            f"no finished runs in {experiment or 'any experiment'}: run `nlpops train CONFIG` first"
        )
    present = [c for c in COLUMNS if c in runs.columns]
    table = runs[present].rename(columns=COLUMNS)
    table.insert(
        0,
        "experiment",
        runs["experiment_id"].map({e.experiment_id: e.name for e in mlflow.search_experiments()}),
    )
    sort_key = "macro_f1" if "macro_f1" in table else table.columns[-1]
    return table.sort_values(sort_key, ascending=False).reset_index(drop=True)


def _markdown(table: pd.DataFrame, plots: list[Path]) -> str:
    lines = [
        "# Model comparison",
        "",
        "Each row is one trained model (and preprocessing recipe), scored on the held-out test split.",
        "Higher accuracy / macro-F1 / ROC-AUC is better; lower latency, training time and size are better.",
        "",
        table.to_markdown(index=False, floatfmt=".4g"),
        "",
    ]
    lines += [f"![{p.stem}]({p.name})" for p in plots]
    return "\n".join(lines) + "\n"


def _html(table: pd.DataFrame, plots: list[Path]) -> str:
    images = "\n".join(
        f'<figure><img src="{html.escape(p.name)}" alt="{html.escape(p.stem)}"></figure>' for p in plots
    )
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>nlpops model comparison</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;color:#111}}
table{{border-collapse:collapse}}td,th{{border:1px solid #bbb;padding:.3rem .6rem;text-align:right}}
th{{background:#eef}}img{{max-width:48%}}</style>
</head><body><h1>Model comparison</h1>
<p>Each row is one trained model (and preprocessing recipe), scored on the held-out test split.
Higher accuracy, macro-F1 and ROC-AUC are better; lower latency, training time and size are better.</p>
{table.to_html(index=False, float_format=lambda v: f"{v:.4g}", na_rep="–")}
{images}</body></html>"""


def build_report(out_dir: Path, experiment: str | None = None) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.html`` (and the plots) into ``out_dir``."""
    from nlpops.evaluate import comparison_plots

    table = runs_table(experiment)
    with staged_dir(out_dir) as stage:  # the report and its plots, or nothing
        plots = comparison_plots(table, stage)
        (stage / "report.md").write_text(_markdown(table, plots), encoding="utf-8")
        (stage / "report.html").write_text(_html(table, plots), encoding="utf-8")
    return out_dir / "report.md", out_dir / "report.html"
