"""Spike detection on per-window negative counts, and what a spike is about (terms, examples).

:class:`SpikeDetector` is pure: counts in, spikes out. It is shared by ``nlpops watch`` and the
API's live negative-share alert (``serve/spikes.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import poisson

Method = Literal["poisson", "zscore"]
Basis = Literal["count", "share"]


@dataclass
class Spike:
    """One window where a group's negative volume is well above its baseline."""

    window: pd.Timestamp | int
    group: str
    observed: int
    expected: float
    score: float
    volume: int
    top_terms: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)


class SpikeDetector:
    """Flag windows whose negative count is far above the mean of the previous windows.

    The score is ``-log10`` of the Poisson tail probability ``P(X >= observed | expected)``
    (``method="poisson"``) or a z-score against the baseline's spread (``"zscore"``). A window is a
    spike when ``score >= threshold`` and it holds at least ``min_volume`` negative posts. With
    ``basis="share"`` the expected count is the baseline negative share times this window's volume,
    so a rise of traffic alone is no spike.

    >>> det = SpikeDetector(baseline_windows=3, threshold=3.0, min_volume=5, min_history=3)
    >>> [s.observed for s in det.detect_series([10, 10, 10, 10], [2, 3, 2, 30])]
    [30]
    """

    def __init__(
        self,
        baseline_windows: int = 24,
        threshold: float = 5.0,
        min_volume: int = 10,
        method: Method = "poisson",
        basis: Basis = "count",
        min_history: int = 6,
    ):
        self.baseline_windows = baseline_windows
        self.threshold = threshold
        self.min_volume = min_volume
        self.method = method
        self.basis = basis
        self.min_history = min_history

    def expected(self, volumes: np.ndarray, negatives: np.ndarray) -> np.ndarray:
        """Expected negative count per window from the previous ``baseline_windows`` (NaN: too few)."""
        prev_neg = pd.Series(negatives, dtype=float).shift(1)
        n, least = self.baseline_windows, self.min_history
        if self.basis == "count":
            return prev_neg.rolling(n, least).mean().to_numpy()
        prev_vol = pd.Series(volumes, dtype=float).shift(1)
        share = prev_neg.rolling(n, least).sum() / prev_vol.rolling(n, least).sum().replace(0, np.nan)
        return (share * np.asarray(volumes, dtype=float)).to_numpy()

    def scores(self, volumes: np.ndarray, negatives: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(expected, score)`` per window; the score is NaN where the baseline is too short."""
        neg = np.asarray(negatives, dtype=float)
        expected = self.expected(np.asarray(volumes), neg)
        floor = np.maximum(np.nan_to_num(expected, nan=0.0), 0.5)  # an empty baseline still expects a little
        if self.method == "poisson":
            tail = poisson.sf(neg - 1, floor)  # P(X >= observed)
            score = -np.log10(np.maximum(tail, 1e-300))
        else:
            spread = pd.Series(neg).shift(1).rolling(self.baseline_windows, self.min_history).std()
            sd = np.maximum(np.nan_to_num(spread.to_numpy(), nan=0.0), np.sqrt(floor))
            score = (neg - floor) / sd
        score[np.isnan(expected)] = np.nan
        return expected, score

    def detect_series(
        self,
        volumes: list[int] | np.ndarray,
        negatives: list[int] | np.ndarray,
        windows: list[pd.Timestamp] | list[int] | None = None,
        group: str = "all",
    ) -> list[Spike]:
        """Spikes in one group's series of windows (in time order)."""
        neg = np.asarray(negatives, dtype=int)
        expected, score = self.scores(np.asarray(volumes), neg)
        flagged = (np.nan_to_num(score, nan=-math.inf) >= self.threshold) & (neg >= self.min_volume)
        stamps = windows if windows is not None else list(range(len(neg)))
        return [
            Spike(stamps[i], group, int(neg[i]), float(expected[i]), float(score[i]), int(volumes[i]))
            for i in np.flatnonzero(flagged)
        ]

    def detect(self, agg: pd.DataFrame) -> list[Spike]:
        """Spikes in an :func:`~nlpops.watch.aggregate.aggregate` frame, group by group, by time."""
        spikes: list[Spike] = []
        for group, rows in agg.sort_values("window").groupby("group", sort=True):
            spikes += self.detect_series(
                rows["volume"].to_numpy(), rows["negative"].to_numpy(), list(rows["window"]), str(group)
            )
        return sorted(spikes, key=lambda s: (s.window, s.group))


def top_terms(spike_texts: list[str], baseline_texts: list[str], k: int = 10) -> list[str]:
    """Terms most over-represented in the spike's posts vs the baseline's (smoothed log-odds ratio)."""
    from sklearn.feature_extraction.text import CountVectorizer

    if not spike_texts:
        return []
    vec = CountVectorizer(stop_words="english", token_pattern=r"(?u)#?\b[^\W\d_]{2,}\b", min_df=1)
    counts = vec.fit_transform(list(spike_texts) + list(baseline_texts))
    spike = np.asarray(counts[: len(spike_texts)].sum(axis=0)).ravel() + 0.5
    base = np.asarray(counts[len(spike_texts) :].sum(axis=0)).ravel() + 0.5
    log_odds = np.log(spike / spike.sum()) - np.log(base / base.sum())
    terms = vec.get_feature_names_out()
    order = [i for i in np.argsort(-log_odds) if spike[i] >= 2.5]  # seen at least twice in the spike
    return [str(terms[i]) for i in order[:k]]


def describe_spikes(
    spikes: list[Spike],
    negatives: pd.DataFrame,
    window: str,
    baseline_windows: int,
    n_examples: int = 3,
    max_texts: int = 2000,
) -> list[Spike]:
    """Fill ``top_terms`` and ``examples`` of each spike from the negative posts (``time, group, text``).

    At most ``max_texts`` posts of a spike and of its baseline are compared (the latest ones).
    """
    freq = pd.Timedelta(pd.tseries.frequencies.to_offset(window).nanos)
    by_group = {str(g): rows.sort_values(["time", "text"]) for g, rows in negatives.groupby("group")}
    empty = negatives.iloc[:0]
    for spike in spikes:
        rows = by_group.get(spike.group, empty)
        start = pd.Timestamp(spike.window)
        index = pd.DatetimeIndex(rows["time"])
        lo, mid, hi = (
            int(index.searchsorted(t)) for t in (start - baseline_windows * freq, start, start + freq)
        )
        in_spike = rows.iloc[mid:hi]
        before = rows.iloc[max(lo, mid - max_texts) : mid]
        spike.top_terms = top_terms(in_spike["text"].tail(max_texts).tolist(), before["text"].tolist())
        if "p_negative" in in_spike:  # the most negative first; ties by text, so both engines agree
            in_spike = in_spike.sort_values(["p_negative", "text"], ascending=[False, True])
        spike.examples = in_spike["text"].drop_duplicates().head(n_examples).tolist()
    return spikes
