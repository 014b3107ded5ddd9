"""``nlpops train | compare``: train a config's models and compare the runs."""

from __future__ import annotations

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
EXAMPLES = {
    "train": examples(
        "nlpops train configs/demo.yaml",
        "nlpops train configs/demo.yaml --models tfidf_lr,tfidf_nb --recipes minimal",
        "nlpops train configs/sentiment140.yaml --set data.limit=20000 --set models.tfidf_lr.C=2",
    ),
    "compare": examples("nlpops compare --experiment demo --out reports/demo"),
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
