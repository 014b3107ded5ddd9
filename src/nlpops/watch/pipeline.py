"""``run_watch``: score a file, aggregate per window, detect spikes, write the report, send alerts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from nlpops.alerts import Channel, send_to_all
from nlpops.errors import DataError
from nlpops.models.target import require_target_label
from nlpops.watch.aggregate import aggregate, window_offset
from nlpops.watch.detect import Spike, SpikeDetector, describe_spikes
from nlpops.watch.report import write_report
from nlpops.watch.score import Untimed, WatchSpec, score_chunks

Engine = Literal["local", "spark"]


@dataclass
class WatchResult:
    """What a watch produced: the window table, the spikes and the files written."""

    windows: pd.DataFrame
    spikes: list[Spike]
    files: dict[str, Path] = field(default_factory=dict)
    n_posts: int = 0
    untimed: Untimed = field(default_factory=Untimed)


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
        DataError: no post has a time that parses (``--time-col`` names another column).
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
    left_out.check(path, spec.time_col)
    if not parts:
        raise DataError(f"{path}: no posts")
    return pd.concat(parts, ignore_index=True)


def alert_spikes(spikes: Sequence[Spike], channels: Sequence[Channel], source: str) -> None:
    """One alert per spike on every channel; a failing channel never stops the others."""
    for s in spikes:
        subject = f"negative spike: {s.group} at {s.window}"
        message = (
            f"{source}: {s.observed} negative posts in the window starting {s.window} for {s.group} "
            f"(expected {s.expected:.1f}, score {s.score:.1f}); top terms: {', '.join(s.top_terms[:5])}"
        )
        send_to_all(channels, subject, message)


def run_watch(
    path: str | Path,
    model_uri: str,
    spec: WatchSpec,
    out_dir: Path,
    window: str = "1h",
    detector: SpikeDetector | None = None,
    negative_label: str | None = None,
    channels: Sequence[Channel] = (),
    on_chunk: Callable[[int], None] | None = None,
    jobs: int = 1,
) -> WatchResult:
    """Score, aggregate, detect, describe, report and alert (the local engine).

    Args:
        path: The posts (CSV/TSV/JSONL/Parquet).
        model_uri: Any URI :func:`nlpops.tracking.load_estimator` reads.
        spec: The time, text and group columns.
        out_dir: Where the report files go.
        window: A pandas offset alias.
        detector: The spike rule (defaults to :class:`SpikeDetector`'s defaults).
        negative_label: The model's negative class when its name is not like "negative".
        channels: Alert channels (``nlpops.alerts.channels_from_settings``); none by default.
        on_chunk: Progress callback, called with each chunk's row count.
        jobs: Scoring processes (forked; chunks are scored in parallel, kept in file order).
    """
    window_offset(window)  # fail on a bad window before scoring
    untimed = Untimed()
    scored = score_local(model_uri, path, spec, negative_label, on_chunk=on_chunk, jobs=jobs, untimed=untimed)
    result = finish_watch(scored, spec, out_dir, window, detector, channels, str(path))
    result.untimed = untimed
    return result


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


def report_watch(
    agg: pd.DataFrame,
    spikes: list[Spike],
    negatives: pd.DataFrame,
    out_dir: Path,
    window: str,
    detector: SpikeDetector,
    channels: Sequence[Channel],
    source: str,
) -> WatchResult:
    """Engine-independent end: describe the spikes from the negative posts, write the report, alert."""
    describe_spikes(spikes, negatives, window, detector.baseline_windows)
    files = write_report(out_dir, agg, spikes, source, window)
    alert_spikes(spikes, channels, source)
    return WatchResult(agg, spikes, files, int(agg["volume"].sum()))
