"""``nlpops evaluate``: a model's metrics on a labelled file: overall, per class, per slice, and plots."""

from __future__ import annotations

import json
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from nlpops.cli.common import (
    ModelOpt,
    clean_errors,
    column_hint,
    console,
    err_console,
    examples,
    number,
    quiet_libraries,
)

if TYPE_CHECKING:
    from nlpops.evaluate import EvaluationResult

EXAMPLES = examples(
    "nlpops evaluate --model models:/demo@champion --data data/sample/sentiment140_sample.csv",
    "nlpops evaluate --model models:/airline@champion --data twitter_us_airline_sentiment_tweets.csv.gz "
    "--out reports/airline-eval",
    "nlpops evaluate --model models:/demo@champion --data posts.csv --text-col body --label-col sentiment",
)
OVERALL = ("accuracy", "macro_f1", "roc_auc", "pr_auc", "log_loss")


def _overall(result: EvaluationResult, binary: bool) -> dict[str, Any]:
    """The headline metrics (F1 of the positive class too for a binary model), ``n`` and ``n_skipped``."""
    keys = OVERALL + (("positive_f1",) if binary else ())  # with the model's decision threshold
    return {k: result.metrics.get(k) for k in keys} | {
        "n": int(result.metrics.get("n", 0)),
        "n_skipped": result.n_skipped,
    }


def _frame_table(title: str, frame: Any, first: str) -> Table:
    """A per-class or per-slice frame as a table (``itertuples`` keeps integer columns integers)."""
    table = Table(title=title)
    table.add_column(first)
    for column in frame.columns:
        table.add_column(str(column), justify="right")
    for name, row in zip(frame.index, frame.itertuples(index=False), strict=True):
        table.add_row(escape(str(name)), *(number(v) for v in row))
    return table


def _tables(title: str, overall: dict[str, Any], result: EvaluationResult) -> list[Table]:
    """The overall metrics, then precision / recall / F1 / support per class, then per slice."""
    metrics = Table(title=escape(title))
    metrics.add_column("metric")
    metrics.add_column("value", justify="right")
    for key, value in overall.items():
        metrics.add_row(key, number(value))
    per_class = _frame_table("per class", result.per_class, "class")
    slices = _frame_table("per slice (no metrics under 5 texts)", result.slices, "slice")
    return [metrics, per_class, slices]


def evaluate(
    model: ModelOpt,
    data: Annotated[Path, typer.Option(help="A labelled file any loader reads (CSV, JSONL, Parquet…).")],
    format_: Annotated[str | None, typer.Option("--format", help="Force the loader.")] = None,
    text_col: Annotated[str | None, typer.Option(help="Text column of a generic file.")] = None,
    label_col: Annotated[str | None, typer.Option(help="Label column of a generic file.")] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder for metrics.json, the per-class, confusion and slice tables (CSV and Markdown) "
            "and the plots (PNG)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")] = False,
    positive_label: Annotated[
        str | None,
        typer.Option(help="Positive class of a binary model (default: its tuned one, else the last)."),
    ] = None,
) -> None:
    """Metrics of a model on a labelled file (rows with labels the model does not know are skipped)."""
    from nlpops.data import load_dataset
    from nlpops.evaluate import evaluate_model, write_evaluation
    from nlpops.outputs import check_out_dir, staged_dir
    from nlpops.tracking import load_estimator

    quiet_libraries()
    with clean_errors(), err_console.status(f"reading {data}…") as status:
        if out is not None:
            check_out_dir(out)
        columns = {"text": text_col or "text", "label": label_col or "label"}  # both needed here
        with column_hint("--text-col", "--label-col"):
            df = load_dataset(data, fmt=format_, columns=columns)
        df = df[df["label"].notna()]
        status.update(f"loading {model}…")
        loaded = load_estimator(model)
        status.update(f"scoring {len(df):,} texts…")
        positive = positive_label or loaded.model.positive_label_
        texts, labels = df["text"].tolist(), df["label"].tolist()
        with staged_dir(out) if out is not None else nullcontext() as stage:
            plots = stage / "plots" if stage is not None else None
            result = evaluate_model(
                loaded.model, texts, labels, plots, measure_speed=False, positive_label=positive
            )
            if stage is not None:
                status.update(f"writing {out}…")
                write_evaluation(result, stage)
    overall = _overall(result, len(loaded.model.classes_) == 2)
    if as_json:
        per_class = result.per_class.to_dict(orient="index")
        typer.echo(json.dumps(overall | {"per_class": per_class}, default=float))
    else:
        for table in _tables(f"{model} on {data}", overall, result):
            console.print(table)
    if out is not None:
        files = "metrics.json, per_class, confusion and slices (.csv, .md), plots/"
        err_console.print(f"written in {out}: {files}", highlight=False, soft_wrap=True)
