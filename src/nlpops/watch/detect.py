"""Spike detection on per-window negative counts, and what a spike is about (terms, examples).

:class:`SpikeDetector` is pure: counts in, spikes out. It is shared by ``nlpops watch`` and the
API's live negative-share alert (``serve/spikes.py``).
"""

from __future__ import annotations

import math
import re
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


_TERM = re.compile(r"(?u)#?\b[^\W\d_]{2,}\b")  # words of two letters or more, hashtags kept


def term_ids(texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower-cased terms of each text (English stop words out), as scikit-learn's CountVectorizer
    would count them: ``(ids, starts, terms)``, text ``i``'s term ids being ``ids[starts[i]:starts[i+1]]``
    and ``terms`` sorted, so that ties rank alphabetically.
    """
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS as STOP

    vocab: dict[str, int] = {}
    ids: list[int] = []
    starts = [0]
    by_chunk: dict[str, list[int]] = {}  # the pattern never spans whitespace: each chunk once
    for text in texts:
        for chunk in text.lower().split():
            found = by_chunk.get(chunk)
            if found is None:
                words = _TERM.findall(chunk)
                found = by_chunk[chunk] = [vocab.setdefault(w, len(vocab)) for w in words if w not in STOP]
            ids += found
        starts.append(len(ids))
    terms = np.array(sorted(vocab), dtype=object)
    rank = np.empty(len(vocab), dtype=np.int64)
    rank[[vocab[t] for t in terms]] = np.arange(len(terms))
    return rank[np.asarray(ids, dtype=np.int64)], np.asarray(starts, dtype=np.int64), terms


def _over_represented(spike: np.ndarray, base: np.ndarray, terms: np.ndarray, k: int) -> list[str]:
    """The ``k`` terms with the highest smoothed log-odds ratio, seen at least twice in the spike.

    Terms absent from both sides only shift every ratio by the same constant, so the ranking is
    the same whatever vocabulary the counts come from; ties go alphabetically.
    """
    spike, base = spike + 0.5, base + 0.5
    log_odds = np.log(spike / spike.sum()) - np.log(base / base.sum())
    seen = np.flatnonzero(spike >= 2.5)
    order = seen[np.argsort(-log_odds[seen], kind="stable")]
    return [str(terms[i]) for i in order[:k]]


def top_terms(spike_texts: list[str], baseline_texts: list[str], k: int = 10) -> list[str]:
    """Terms most over-represented in the spike's posts vs the baseline's (smoothed log-odds ratio)."""
    if not spike_texts:
        return []
    ids, starts, terms = term_ids(list(spike_texts) + list(baseline_texts))
    cut = starts[len(spike_texts)]
    spike = np.bincount(ids[:cut], minlength=len(terms))
    base = np.bincount(ids[cut:], minlength=len(terms))
    return _over_represented(spike, base, terms, k)


@dataclass
class _GroupTerms:
    """Term ids of the posts (rows) of one group that some spike needs, each tokenised once."""

    ids: np.ndarray
    starts: np.ndarray  # needed post j's ids are ids[starts[j]:starts[j + 1]]
    position: np.ndarray  # row -> its needed-post number (valid for needed rows only)
    terms: np.ndarray

    @classmethod
    def build(cls, texts: list[str], ranges: list[tuple[int, int]]) -> _GroupTerms:
        needed = np.zeros(len(texts) + 1, dtype=bool)
        for lo, hi in ranges:
            needed[lo:hi] = True
        ids, starts, terms = term_ids([texts[i] for i in np.flatnonzero(needed[:-1])])
        return cls(ids, starts, np.cumsum(needed) - 1, terms)

    def summed(self, lo: int, hi: int) -> np.ndarray:
        """Term counts of rows ``lo:hi`` (all needed), summed."""
        if hi <= lo:
            return np.zeros(len(self.terms))
        first = self.position[lo]
        return np.bincount(
            self.ids[self.starts[first] : self.starts[first + hi - lo]], minlength=len(self.terms)
        )


def _spike_bounds(
    spike: Spike, index: pd.DatetimeIndex, freq: pd.Timedelta, baseline_windows: int
) -> tuple[int, int, int]:
    """Rows ``lo:mid`` are the spike's baseline windows, ``mid:hi`` its own window."""
    start = pd.Timestamp(spike.window)
    lo, mid, hi = (int(index.searchsorted(t)) for t in (start - baseline_windows * freq, start, start + freq))
    return lo, mid, hi


def _compared(lo: int, mid: int, hi: int, max_texts: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """The rows whose terms are compared: the latest ``max_texts`` of the spike and of its baseline."""
    return (max(mid, hi - max_texts), hi), (max(lo, mid - max_texts), mid)


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
    A group's posts are tokenised once, however many spikes and baselines share them.
    """
    freq = pd.Timedelta(pd.tseries.frequencies.to_offset(window).nanos)
    by_group = {str(g): rows.sort_values(["time", "text"]) for g, rows in negatives.groupby("group")}
    for group, group_spikes in _spikes_by_group(spikes).items():
        rows = by_group.get(group, negatives.iloc[:0])
        index = pd.DatetimeIndex(rows["time"])
        bounds = [_spike_bounds(s, index, freq, baseline_windows) for s in group_spikes]
        compared = [_compared(*b, max_texts) for b in bounds]
        terms = _GroupTerms.build(rows["text"].tolist(), [r for pair in compared for r in pair])
        for spike, (_, mid, hi), (inside, before) in zip(group_spikes, bounds, compared, strict=True):
            spike.top_terms = (
                _over_represented(terms.summed(*inside), terms.summed(*before), terms.terms, 10)
                if hi > mid
                else []
            )
            spike.examples = _examples(rows.iloc[mid:hi], n_examples)
    return spikes


def _spikes_by_group(spikes: list[Spike]) -> dict[str, list[Spike]]:
    grouped: dict[str, list[Spike]] = {}
    for spike in spikes:
        grouped.setdefault(spike.group, []).append(spike)
    return grouped


def _examples(in_spike: pd.DataFrame, n: int) -> list[str]:
    """The ``n`` most negative distinct posts; ties by text, so both engines agree."""
    texts = [str(t) for t in in_spike["text"].tolist()]
    if "p_negative" in in_spike:
        order = sorted(zip((-in_spike["p_negative"].to_numpy()).tolist(), texts, strict=True))
        texts = [text for _, text in order]
    return list(dict.fromkeys(texts))[:n]
