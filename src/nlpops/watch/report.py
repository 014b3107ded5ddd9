"""The end of a watch, whatever the engine: describe the spikes, write ``timeline.png`` (spikes marked),
``spikes.csv`` and ``report.html``, and send the alerts."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from nlpops.alerts import Channel, send_to_all
from nlpops.outputs import staged_dir
from nlpops.plots import _pyplot, _save
from nlpops.watch.detect import Spike, SpikeDetector, describe_spikes
from nlpops.watch.score import Untimed

MAX_PANELS = 8  # the groups with most negatives get a panel each


@dataclass
class WatchResult:
    """What a watch produced: the window table, the spikes and the files written."""

    windows: pd.DataFrame
    spikes: list[Spike]
    files: dict[str, Path] = field(default_factory=dict)
    n_posts: int = 0
    untimed: Untimed = field(default_factory=Untimed)


def _joined(spike: Spike) -> list[str]:
    return [" | ".join(spike.top_terms), " | ".join(spike.examples)]


def spikes_frame(spikes: Sequence[Spike]) -> pd.DataFrame:
    """One row per spike; terms and examples joined with `` | ``."""
    cols = ["window", "group", "observed", "expected", "score", "volume", "top_terms", "examples"]
    rows = [
        [s.window, s.group, s.observed, round(s.expected, 2), round(s.score, 2), s.volume, *_joined(s)]
        for s in spikes
    ]
    return pd.DataFrame(rows, columns=cols)


def _utc_naive(values: pd.Series) -> object:
    """Times as naive UTC datetime64 (matplotlib converts those in bulk, tz-aware ones one by one)."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values.to_numpy()


def plot_timeline(agg: pd.DataFrame, spikes: Sequence[Spike], path: Path) -> Path:
    """Negative posts per window, one panel per group, spikes as red dots."""
    totals = agg.groupby("group")["negative"].sum().sort_values(ascending=False)
    groups = list(totals.index[:MAX_PANELS]) or ["all"]
    plt = _pyplot()
    size = (11, 1.8 + 1.6 * len(groups))
    fig, axes = plt.subplots(len(groups), 1, figsize=size, sharex=True, squeeze=False)
    for ax, group in zip(axes[:, 0], groups, strict=True):
        rows = agg[agg["group"] == group]
        x = _utc_naive(rows["window"])
        ax.plot(x, rows["negative"], lw=1, label="negative")
        ax.plot(x, rows["volume"], lw=0.8, color="grey", alpha=0.5, label="all posts")
        hits = [s for s in spikes if s.group == group]
        hit_x = _utc_naive(pd.Series([s.window for s in hits]))
        ax.scatter(hit_x, [s.observed for s in hits], color="red", zorder=3, label="spike")
        ax.set_ylabel(str(group)[:18])
    axes[0, 0].legend(loc="upper left", fontsize=8)
    axes[0, 0].set_title("negative posts per window (red: spikes; times in UTC)")
    fig.autofmt_xdate()
    return _save(fig, path)


def _html(table: pd.DataFrame, source: str, n_posts: int, window: str) -> str:
    body = table.to_html(index=False, escape=True) if len(table) else "<p>No spike.</p>"
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>nlpops watch: {html.escape(source)}</title>
<style>body{{font-family:sans-serif;margin:2em}}td{{vertical-align:top;font-size:90%}}img{{max-width:100%}}</style>
</head><body><h1>Bad-buzz watch</h1>
<p>{html.escape(source)}: {n_posts:,} posts, {html.escape(window)} windows, {len(table)} spike(s).</p>
<figure><img src="timeline.png" alt="timeline"></figure>
{body}</body></html>"""


def write_report(
    out_dir: Path, agg: pd.DataFrame, spikes: Sequence[Spike], source: str, window: str
) -> dict[str, Path]:
    """Write the timeline, ``spikes.csv``, ``windows.csv`` and ``report.html`` into ``out_dir``
    (all of them or, on error, none)."""
    table = spikes_frame(spikes)
    names = {
        "timeline": "timeline.png",
        "spikes": "spikes.csv",
        "windows": "windows.csv",
        "report": "report.html",
    }
    with staged_dir(out_dir) as stage:
        plot_timeline(agg, spikes, stage / names["timeline"])
        table.to_csv(stage / names["spikes"], index=False)
        agg.to_csv(stage / names["windows"], index=False)
        n_posts = int(agg["volume"].sum()) if len(agg) else 0
        (stage / names["report"]).write_text(_html(table, source, n_posts, window), encoding="utf-8")
    return {key: out_dir / name for key, name in names.items()}


def alert_spikes(spikes: Sequence[Spike], channels: Sequence[Channel], source: str) -> None:
    """One alert per spike on every channel; a failing channel never stops the others."""
    for s in spikes:
        subject = f"negative spike: {s.group} at {s.window}"
        message = (
            f"{source}: {s.observed} negative posts in the window starting {s.window} for {s.group} "
            f"(expected {s.expected:.1f}, score {s.score:.1f}); top terms: {', '.join(s.top_terms[:5])}"
        )
        send_to_all(channels, subject, message)


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
