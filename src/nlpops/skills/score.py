"""Exact-match span scores: precision, recall and F1 per label and micro-averaged."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from nlpops.skills.schema import LABELS, SpanSet


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": float(tp + fn)}


def score_spans(gold: Iterable[SpanSet], pred: Iterable[SpanSet], labels: tuple[str, ...] = LABELS) -> dict:
    """Score predicted against gold spans ``(start, end, label)``, document by document.

    Returns:
        ``{"micro_f1", "micro_precision", "micro_recall", "support", "per_label": {label: {...}}}``
        with precision, recall, f1 and support per label.
    """
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for g, p in zip(gold, pred, strict=True):
        for span in p & g:
            tp[span[2]] += 1
        for span in p - g:
            fp[span[2]] += 1
        for span in g - p:
            fn[span[2]] += 1
    micro = _prf(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    return {
        "micro_f1": micro["f1"],
        "micro_precision": micro["precision"],
        "micro_recall": micro["recall"],
        "support": micro["support"],
        "per_label": {label: _prf(tp[label], fp[label], fn[label]) for label in labels},
    }


def flat_metrics(scores: dict, prefix: str) -> dict[str, float]:
    """Scores as flat MLflow metric names: ``{prefix}_micro_f1``, ``{prefix}_PROG_LANG_f1``…"""
    out = {f"{prefix}_{k}": float(v) for k, v in scores.items() if k.startswith("micro_")}
    for label, values in scores["per_label"].items():
        out |= {f"{prefix}_{label}_{k}": float(v) for k, v in values.items() if k != "support"}
    return out
