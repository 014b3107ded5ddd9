"""``nlpops train | compare | evaluate``: the model stages of the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from nlpops.cli.common import clean_errors, console, examples, quiet_libraries

ConfigArg = Annotated[Path, typer.Argument(help="Run config (YAML) under configs/.")]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set", metavar="KEY=VALUE", help="Override a config key (repeatable): models.tfidf_lr.C=2."
    ),
]
ModelOpt = Annotated[
    str,
    typer.Option(
        "--model",
        metavar="URI",
        help="models:/name@champion, models:/name/3, runs:/id/model or a model folder.",
    ),
]
EXAMPLES = {
    "train": examples(
        "nlpops train configs/demo.yaml",
        "nlpops train configs/demo.yaml --models tfidf_lr,tfidf_nb --recipes minimal",
        "nlpops train configs/sentiment140.yaml --set data.limit=20000 --set models.tfidf_lr.C=2",
    ),
    "compare": examples("nlpops compare --experiment demo --out reports/demo"),
    "evaluate": examples(
        "nlpops evaluate --model models:/demo@champion --data data/sample/sentiment140_sample.csv",
        "nlpops evaluate --model models:/airline@champion --data tweets.csv --text-col text "
        "--label-col airline_sentiment --out reports/eval",
    ),
}


def _csv(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def train(
    config: ConfigArg,
    models: Annotated[
        str | None, typer.Option(metavar="NAMES", help="Comma-separated model names from the config.")
    ] = None,
    recipes: Annotated[
        str | None, typer.Option(metavar="RECIPES", help="Comma-separated recipes to compare.")
    ] = None,
    set_: SetOpt = None,
) -> None:
    """Train the config's models, log them to MLflow, register the best and print a results table."""
    from nlpops.config import load_config
    from nlpops.train import run_training

    quiet_libraries()
    with clean_errors():
        cfg = load_config(config, set_ or [])
        with console.status("training…") as status:

            def notify(msg: str) -> None:
                status.update(msg)
                console.log(msg)

            report = run_training(cfg, _csv(models), _csv(recipes), notify)
    _print_results(report, cfg.metric)


def _print_results(report: object, metric: str) -> None:
    from nlpops.train import TrainingReport

    assert isinstance(report, TrainingReport)
    table = Table(title="results (test split)")
    second = "macro_f1" if metric == "accuracy" else "accuracy"
    if metric in {"roc_auc", "pr_auc"} and report.best.metrics.get("test_positive_f1", float("nan")) >= 0:
        second = "positive_f1"  # binary ranking metric: show F1 of the positive class next to it
    for col in ("model", "recipe", metric, second, "train s", "vs fastText", "p50 ms", "MB"):
        table.add_column(col)
    for r in sorted(report.results, key=lambda r: -r.metrics.get(f"test_{metric}", 0)):
        m = r.metrics
        table.add_row(
            r.name,
            r.recipe or "-",
            f"{m.get('test_' + metric, float('nan')):.4f}",
            f"{m.get('test_' + second, float('nan')):.4f}",
            f"{m['train_time_s']:.1f}",
            f"{m.get('train_time_vs_fasttext', float('nan')):.2f}",
            f"{m.get('test_latency_p50_ms', float('nan')):.2f}",
            f"{m.get('size_mb', float('nan')):.1f}",
        )
    console.print(table)
    p = report.promotion
    console.print(
        f"best: [bold]{report.best.name}[/] \\[{report.best.recipe or '-'}] → registered "
        f"{p.name} v{p.version}; champion: {'moved' if p.promoted else 'kept'} ({p.reason})"
    )
    console.print(f"serve it: nlpops serve --model models:/{p.name}@champion")


def compare(
    out: Annotated[Path, typer.Option(help="Folder for report.md and report.html.")],
    experiment: Annotated[
        str | None, typer.Option(help="MLflow experiment (default: all nlpops ones).")
    ] = None,
) -> None:
    """Write a comparison report (table + plots) of the runs in an experiment."""
    from nlpops.outputs import check_out_dir
    from nlpops.report import build_report

    quiet_libraries()
    with clean_errors():
        check_out_dir(out)
        md, html = build_report(out, experiment)
    console.print(f"report: {md}\n        {html}")


def evaluate(
    model: ModelOpt,
    data: Annotated[Path, typer.Option(help="Any file the loaders read.")],
    format_: Annotated[str | None, typer.Option("--format", help="Force the loader.")] = None,
    text_col: Annotated[str | None, typer.Option(help="Text column of a generic file.")] = None,
    label_col: Annotated[str | None, typer.Option(help="Label column of a generic file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")] = False,
    positive_label: Annotated[
        str | None,
        typer.Option(help="Positive class of a binary model (default: its tuned one, else the last)."),
    ] = None,
) -> None:
    """Metrics of a model on a labelled file (rows with labels the model does not know are skipped)."""
    from nlpops.data import load_dataset
    from nlpops.evaluate import evaluate_model
    from nlpops.tracking import load_estimator

    quiet_libraries()
    with clean_errors():
        columns = {k: v for k, v in {"text": text_col, "label": label_col}.items() if v}
        df = load_dataset(data, fmt=format_, columns=columns or None)
        df = df[df["label"].notna()]
        loaded = load_estimator(model)
        positive = positive_label or loaded.model.positive_label_
        texts, labels = df["text"].tolist(), df["label"].tolist()
        result = evaluate_model(loaded.model, texts, labels, measure_speed=False, positive_label=positive)
    keys: tuple[str, ...] = ("accuracy", "macro_f1", "roc_auc", "pr_auc", "log_loss")
    if len(loaded.model.classes_) == 2:  # F1 of the positive class, with the model's decision threshold
        keys += ("positive_f1",)
    out = {k: result.metrics.get(k) for k in keys} | {
        "n": int(result.metrics.get("n", 0)),
        "n_skipped": result.n_skipped,
    }
    if as_json:
        typer.echo(json.dumps(out))
        return
    table = Table(title=f"{model} on {data}")
    table.add_column("metric")
    table.add_column("value")
    for k, v in out.items():
        table.add_row(k, f"{v:.4f}" if isinstance(v, float) else str(v))
    console.print(table)
