"""``nlpops data validate | split``: the data stage of the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from nlpops.cli.common import Command, Group, clean_errors, column_hint, console, err_console, examples

if TYPE_CHECKING:
    from nlpops.data import ColumnMap, SplitResult, ValidationReport

app = typer.Typer(help="Validate and split datasets.", no_args_is_help=True, cls=Group)

FileArg = Annotated[
    Path, typer.Argument(help="Data file (a relative path is also looked up in the data folder).")
]
FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format",
        help="sentiment140, airline, dissidentia, csv, tsv, jsonl, parquet or doccano (default: detect).",
    ),
]
TextColOpt = Annotated[str | None, typer.Option(help="Text column (generic formats).")]
LabelColOpt = Annotated[str | None, typer.Option(help="Label column (generic formats).")]


def _columns(text_col: str | None, label_col: str | None, group_col: str | None = None) -> ColumnMap | None:
    """A column map from the options, or None when none was given."""
    from nlpops.data import ColumnMap

    given = {"text": text_col, "label": label_col, "group": group_col}
    given = {key: value for key, value in given.items() if value is not None}
    return ColumnMap(**given) if given else None


def _report_table(report: ValidationReport) -> Table:
    """The validation report as a two-column table."""
    table = Table(title=f"{report.path} ({report.format})", show_header=False)
    table.add_column("check", style="bold")
    table.add_column("value", justify="right")
    for name in (
        "rows",
        "empty_texts",
        "unlabelled",
        "exact_duplicates",
        "normalized_duplicates",
        "conflicting_texts",
        "conflicting_rows",
    ):
        table.add_row(name.replace("_", " "), f"{getattr(report, name):,}")
    for label, count in report.class_balance.items():
        table.add_row(f"label {label}", f"{count:,} ({count / max(report.rows, 1):.1%})")
    for unit, stats in (("chars", report.chars), ("words", report.words)):
        if stats is not None:
            values = f"{stats.min:g} / {stats.median:g} / {stats.mean:g} / {stats.p95:g} / {stats.max:g}"
            table.add_row(f"{unit} min/median/mean/p95/max", values)
    return table


@app.command(
    cls=Command,
    epilog=examples(
        "nlpops data validate sentiment140_train_subset_110k.csv.gz",
        "nlpops data validate posts.csv --text-col body --label-col sentiment --json",
    ),
)
def validate(
    file: FileArg,
    fmt: FormatOpt = None,
    text_col: TextColOpt = None,
    label_col: LabelColOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Report rows, empties, duplicates, label conflicts, class balance and lengths; exit 1 on errors."""
    from nlpops.data import validate_dataset

    with clean_errors(), console.status(f"reading {file}…"):
        report = validate_dataset(file, fmt=fmt, columns=_columns(text_col, label_col))
    if as_json:
        print(report.model_dump_json(indent=2))
    elif report.rows:
        console.print(_report_table(report))
        for warning in report.warnings:
            console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    for error in report.errors:
        err_console.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
    if report.errors:
        raise typer.Exit(1)


def _split_table(result: SplitResult) -> Table:
    """Rows and label counts per split."""
    counts = result.label_counts()
    labels = sorted({label for per_split in counts.values() for label in per_split})
    table = Table(
        title=f"split (seed {result.seed}, {'stratified' if result.stratified else 'not stratified'})"
    )
    table.add_column("split", style="bold")
    table.add_column("rows", justify="right")
    for label in labels:
        table.add_column(label, justify="right")
    for name, size in result.sizes().items():
        table.add_row(name, f"{size:,}", *(f"{counts[name].get(label, 0):,}" for label in labels))
    return table


@app.command(
    cls=Command,
    epilog=examples(
        "nlpops data split twitter_us_airline_sentiment_tweets.csv.gz --group-col airline --out splits/air",
        "nlpops data split posts.csv --text-col body --label-col sentiment --out splits/posts --seed 7",
    ),
)
def split(
    file: FileArg,
    out: Annotated[Path, typer.Option(help="Output folder for the parquet files and manifest.json.")],
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    val_size: Annotated[float, typer.Option(help="Validation fraction.")] = 0.1,
    test_size: Annotated[float, typer.Option(help="Test fraction.")] = 0.1,
    group_col: Annotated[
        str | None, typer.Option(help="Keep each value of this column in one split (e.g. user, airline).")
    ] = None,
    fmt: FormatOpt = None,
    text_col: TextColOpt = None,
    label_col: LabelColOpt = None,
) -> None:
    """Deduplicate (normalised text), drop label conflicts, split train/val/test and write a manifest."""
    from nlpops.data import check_leakage, load_dataset, split_dataset, write_split
    from nlpops.outputs import check_out_dir

    with (
        clean_errors(),
        column_hint("--text-col", "--label-col"),
        console.status(f"reading {file}…") as status,
    ):
        check_out_dir(out)  # before the work, not after
        df = load_dataset(file, fmt=fmt, columns=_columns(text_col, label_col))
        if group_col is not None and group_col not in df and "group" in df:
            group_col = "group"  # fixed formats map their group (user, airline) onto ``group``
        elif group_col is not None and group_col not in df:
            df = load_dataset(file, fmt=fmt, columns=_columns(text_col, label_col, group_col))
            group_col = "group"
        status.update("splitting…")
        result = split_dataset(df, seed=seed, val_size=val_size, test_size=test_size, group_col=group_col)
        check_leakage(result.train, result.val, result.test)
        status.update(f"writing {out}…")
        manifest = write_split(result, out)
    console.print(_split_table(result))
    dropped = ", ".join(f"{key.replace('_', ' ')} {value:,}" for key, value in result.dropped.items())
    console.print(f"dropped: {dropped}", highlight=False)
    console.print(f"manifest: {manifest}", highlight=False)
