"""Per-window (and per-group) counts of scored posts: volume, negatives, negative share, mean P(negative)."""

from __future__ import annotations

import pandas as pd
from pandas.tseries.offsets import BaseOffset

from nlpops.errors import UsageError

AGG_COLUMNS = ["window", "group", "volume", "negative", "negative_share", "mean_p_negative"]


def window_offset(window: str) -> BaseOffset:
    """A pandas offset alias (``1h``, ``15min``, ``1D``) as an offset; a clear error otherwise."""
    try:
        return pd.tseries.frequencies.to_offset(window)
    except ValueError:
        raise UsageError(f"--window {window!r}: not a pandas offset alias such as 1h, 15min, 1D") from None


def aggregate(scored: pd.DataFrame, window: str = "1h") -> pd.DataFrame:
    """Count scored posts per window and group; windows without posts are kept with zero counts.

    Args:
        scored: Rows with ``time`` (UTC), ``group``, ``label`` and ``p_negative``, plus a boolean
            ``is_negative`` (the predicted label is the negative class).
        window: A pandas offset alias.

    Returns:
        One row per (window start, group), sorted by group then window, with :data:`AGG_COLUMNS`.
    """
    freq = window_offset(window)
    if scored.empty:
        return pd.DataFrame(columns=AGG_COLUMNS)
    frame = scored.assign(window=scored["time"].dt.floor(freq))
    counts = frame.groupby(["group", "window"], as_index=False).agg(
        volume=("is_negative", "size"),
        negative=("is_negative", "sum"),
        p_sum=("p_negative", "sum"),
    )
    return complete_windows(counts, freq)


def complete_windows(counts: pd.DataFrame, freq: BaseOffset) -> pd.DataFrame:
    """Add the empty windows (zero counts) and the shares to per-(group, window) sums.

    Args:
        counts: ``group``, ``window`` (UTC window start), ``volume``, ``negative`` and ``p_sum``
            (the sum of P(negative)), as pandas or Spark SQL computed them.
        freq: The window length.
    """
    counts = counts.set_index(["group", "window"])
    stamps = pd.date_range(
        counts.index.get_level_values("window").min(),
        counts.index.get_level_values("window").max(),
        freq=freq,
    )
    groups = sorted(counts.index.get_level_values("group").unique())
    full = pd.MultiIndex.from_product([groups, stamps], names=["group", "window"])
    counts = counts.reindex(full, fill_value=0).reset_index()
    volume = counts["volume"].where(counts["volume"] > 0)
    counts["negative_share"] = (counts["negative"] / volume).fillna(0.0)
    counts["mean_p_negative"] = (counts["p_sum"] / volume).fillna(0.0)
    counts[["volume", "negative"]] = counts[["volume", "negative"]].astype(int)
    return counts[AGG_COLUMNS]
