"""``run_watch``: score a file, aggregate per window, detect spikes, write the report, send alerts.

The local engine is here; the Spark engine (:mod:`nlpops.watch.spark`) shares the end of the flow
(:func:`nlpops.watch.report.report_watch`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import pandas as pd

from nlpops.alerts import Channel
from nlpops.errors import DataError
from nlpops.models.target import require_target_label
from nlpops.watch.aggregate import aggregate, window_offset
from nlpops.watch.detect import SpikeDetector
from nlpops.watch.report import WatchResult, report_watch
from nlpops.watch.score import Untimed, WatchSpec, score_chunks
from nlpops.watch.spark import spark_watch

Engine = Literal["local", "spark"]  # where posts are scored and counted: this process, or Spark

# Read this many posts without one time that parses, and the time column is taken for a wrong one.
EARLY_CHECK_POSTS = 1_000


def score_local(
    model_uri: str,
    path: str | Path,
    spec: WatchSpec,
    negative_label: str | None = None,
    chunksize: int = 50_000,
    on_chunk: Callable[[int], None] | None = None,
    jobs: int = 1,
    untimed: Untimed | None = None,
) -> pd.DataFrame:
    """Score the whole file chunk by chunk (``jobs`` processes); ``on_chunk(rows)`` reports progress.

    Posts whose time does not parse are left out and counted in ``untimed``.

    Raises:
        DataError: no post has a time that parses (``--time-col`` names another column): as soon as
            ``EARLY_CHECK_POSTS`` posts have been read without one, not after the whole file.
    """
    from nlpops.tracking import load_estimator

    model = load_estimator(model_uri).model
    negative = require_target_label(model, negative_label)
    parts, left_out = [], untimed if untimed is not None else Untimed()
    for chunk in score_chunks(model, path, spec, negative, chunksize, jobs):
        parts.append(chunk.posts.assign(is_negative=chunk.posts["label"] == negative))
        left_out.add(chunk.untimed)
        if on_chunk is not None:
            on_chunk(chunk.untimed.total)
        if left_out.total >= EARLY_CHECK_POSTS:  # a wrong --time-col shows in the first chunk: stop there
            left_out.check(path, spec.time_col)
    left_out.check(path, spec.time_col)
    if not parts:
        raise DataError(f"{path}: no posts")
    return pd.concat(parts, ignore_index=True)


def finish_watch(
    scored: pd.DataFrame,
    spec: WatchSpec,
    out_dir: Path,
    window: str,
    detector: SpikeDetector | None,
    channels: Sequence[Channel],
    source: str,
) -> WatchResult:
    """The local engine's second half: aggregate scored posts, then :func:`report_watch`."""
    detector = detector or SpikeDetector()
    agg = aggregate(scored, window)
    spikes = detector.detect(agg)
    negatives = scored[scored["is_negative"]]
    return report_watch(agg, spikes, negatives, out_dir, window, detector, channels, source)


def run_watch(
    path: str | Path,
    model_uri: str,
    spec: WatchSpec,
    out_dir: Path,
    window: str = "1h",
    detector: SpikeDetector | None = None,
    negative_label: str | None = None,
    channels: Sequence[Channel] = (),
    engine: Engine = "local",
    on_chunk: Callable[[int], None] | None = None,
    jobs: int = 1,
    master: str = "local[*]",
) -> WatchResult:
    """Score, aggregate, detect, describe, report and alert, here in chunks or on Spark.

    Args:
        path: The posts (CSV/TSV/JSONL/Parquet).
        model_uri: Any URI :func:`nlpops.tracking.load_estimator` reads (an MLflow model for Spark).
        spec: The time, text and group columns.
        out_dir: Where the report files go (Spark also writes ``scored.parquet`` there).
        window: A pandas offset alias (a fixed length for Spark: 1h, 15min, 1D).
        detector: The spike rule (defaults to :class:`SpikeDetector`'s defaults).
        negative_label: The model's negative class when its name is not like "negative".
        channels: Alert channels (``nlpops.alerts.channels_from_settings``); none by default.
        engine: ``local`` scores the file chunk by chunk in this process (or ``jobs`` forks);
            ``spark`` scores and aggregates on Spark (:mod:`nlpops.watch.spark`).
        on_chunk: Progress callback, called with each chunk's row count (engine local).
        jobs: Scoring processes (engine local; chunks are scored in parallel, kept in file order).
        master: The Spark master URL (engine spark).
    """
    window_offset(window)  # fail on a bad window before scoring
    detector = detector or SpikeDetector()
    if engine == "spark":
        return spark_watch(path, model_uri, spec, out_dir, window, detector, negative_label, channels, master)
    untimed = Untimed()
    scored = score_local(model_uri, path, spec, negative_label, on_chunk=on_chunk, jobs=jobs, untimed=untimed)
    result = finish_watch(scored, spec, out_dir, window, detector, channels, str(path))
    result.untimed = untimed
    return result
