"""``nlpops watch``: negative spikes over time in a file of timestamped posts (the bad-buzz watch)."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from nlpops.cli.common import (
    ModelOpt,
    clean_errors,
    column_hint,
    console,
    examples,
    print_warning,
    quiet_libraries,
)

EXAMPLES = examples(
    "nlpops watch tweets.csv.gz --model models:/airline@champion --time-col tweet_created --by airline "
    "--out reports/watch",
    "nlpops watch posts.parquet --model models:/demo@champion --time-col created_at --window 15min "
    "--out reports/watch --no-alert",
)


def _table(result: object) -> Table:
    from nlpops.watch import WatchResult

    assert isinstance(result, WatchResult)
    table = Table(title=f"{len(result.spikes)} spike(s) in {result.n_posts:,} posts")
    for col in ("window", "group", "negative", "expected", "score", "top terms"):
        table.add_column(col)
    for s in result.spikes:
        terms = ", ".join(s.top_terms[:5])
        table.add_row(str(s.window), s.group, str(s.observed), f"{s.expected:.1f}", f"{s.score:.1f}", terms)
    return table


def watch(
    file: Annotated[Path, typer.Argument(help="Posts: CSV/TSV (.gz ok), JSONL or Parquet.")],
    model: ModelOpt,
    time_col: Annotated[str, typer.Option(help="Column of the post times (offsets are converted to UTC).")],
    out: Annotated[Path, typer.Option(help="Folder for timeline.png, spikes.csv, report.html.")],
    text_col: Annotated[str, typer.Option(help="Column of the post texts.")] = "text",
    by: Annotated[str | None, typer.Option(help="Group column, e.g. airline (a baseline each).")] = None,
    window: Annotated[str, typer.Option(help="Window: a pandas offset alias (1h, 15min, 1D).")] = "1h",
    engine: Annotated[
        Literal["local", "spark"], typer.Option(help="Score in chunks here or on Spark.")
    ] = "local",
    master: Annotated[str, typer.Option(help="Spark master URL (engine spark).")] = "local[*]",
    baseline: Annotated[int, typer.Option(help="Windows in the rolling baseline.")] = 24,
    threshold: Annotated[float, typer.Option(help="Spike score: -log10 Poisson p, or z.")] = 5.0,
    method: Annotated[Literal["poisson", "zscore"], typer.Option(help="Spike test.")] = "poisson",
    basis: Annotated[
        Literal["count", "share"], typer.Option(help="Expect the baseline count, or its share × volume.")
    ] = "count",
    min_volume: Annotated[int, typer.Option(help="Negative posts a spike needs at least.")] = 10,
    negative_label: Annotated[str | None, typer.Option(help="The model's negative class.")] = None,
    jobs: Annotated[int, typer.Option(help="Scoring processes (engine local).")] = 1,
    alert: Annotated[bool, typer.Option(help="Send spikes to the alert channels of the settings.")] = True,
) -> None:
    """Score timestamped posts, count negatives per window (and group), flag spikes, alert and report."""
    from nlpops.alerts import channels_from_settings
    from nlpops.outputs import check_out_dir
    from nlpops.settings import get_settings
    from nlpops.watch import SpikeDetector, WatchSpec, run_watch

    quiet_libraries()
    with clean_errors(), column_hint("--time-col", "--text-col", "--by"):
        check_out_dir(out)
        spec = WatchSpec(time_col=time_col, text_col=text_col, by=by)
        detector = SpikeDetector(baseline, threshold, min_volume, method=method, basis=basis)
        channels = channels_from_settings(get_settings()) if alert else []
        run = partial(run_watch, file, model, spec, out, window, detector, negative_label, channels, engine)
        if engine == "spark":
            with console.status("scoring on Spark…"):
                result = run(master=master)
        else:
            columns = (TextColumn("scoring"), BarColumn(), TextColumn("{task.completed:,} posts"))
            with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
                task = progress.add_task("score", total=None)
                result = run(on_chunk=lambda n: progress.advance(task, n), jobs=jobs)
    warning = result.untimed.warning(time_col)
    if warning:
        print_warning(warning)
    console.print(_table(result))
    console.print(f"report: {result.files['report']}\n        {result.files['spikes']}")
