"""``nlpops train | compare``: train a config's models and compare the runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from nlpops.cli.common import clean_errors, console, examples, number, quiet_libraries

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
                status.update(escape(msg))
                console.log(escape(msg))  # "lr[stem]" is no markup

            report = run_training(cfg, _csv(models), _csv(recipes), notify)
    _print_results(report, cfg.metric)


def _print_results(report: object, metric: str) -> None:
    from nlpops.train import TrainingReport

    assert isinstance(report, TrainingReport)
    second = "macro_f1" if metric == "accuracy" else "accuracy"
    if metric in {"roc_auc", "pr_auc"} and report.best.metrics.get("test_positive_f1", float("nan")) >= 0:
        second = "positive_f1"  # binary ranking metric: show F1 of the positive class next to it
    results = sorted(report.results, key=lambda r: -r.metrics.get(f"val_{metric}", float("-inf")))
    with_fasttext = any("train_time_vs_fasttext" in r.metrics for r in results)  # else the column is all "-"
    short = {"accuracy": "acc", "macro_f1": "macro F1", "positive_f1": "pos. F1"}
    name = short.get(metric, metric)
    headers = ["model", "recipe", f"val\n{name}", f"test\n{name}", f"test\n{short[second]}", "train\ns"]
    headers += [*(["vs\nfastText"] if with_fasttext else []), "p50\nms", "MB"]
    rows = []
    for r in results:
        m = r.metrics
        rows.append(
            [
                escape(r.name),
                escape(r.recipe or "-"),
                number(m.get(f"val_{metric}")),
                number(m.get(f"test_{metric}")),
                number(m.get(f"test_{second}")),
                number(m["train_time_s"], 1),
                *([number(m.get("train_time_vs_fasttext"), 2)] if with_fasttext else []),
                number(m.get("test_latency_p50_ms"), 2),
                number(m.get("size_mb"), 1),
            ]
        )
    # Two-line headers, no vertical rules, one space of padding between columns: the table fits an
    # 80-column terminal without cutting names or numbers (rich would otherwise shrink every column).
    title = "results (the best is chosen on validation, then scored on test)"
    table = Table(title=title, box=box.SIMPLE_HEAD, collapse_padding=True)
    for i, header in enumerate(headers):
        table.add_column(header, justify="left" if i < 2 else "right", no_wrap=True)
    for row in rows:
        table.add_row(*row)
    console.print(table)
    best, p = report.best, report.promotion
    val, test = (number(best.metrics.get(f"{split}_{metric}")) for split in ("val", "test"))
    recipe = escape(f"[{best.recipe or '-'}]")
    console.print(
        f"best: [bold]{escape(best.name)}[/] {recipe} with val {metric} {val} (test {test}) → registered "
        f"{p.name} v{p.version}; champion: {'moved' if p.promoted else 'kept'} ({escape(p.reason)})",
        highlight=False,
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
