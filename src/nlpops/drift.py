"""Data drift: does what the model reads now look like what it was trained and validated on?

At training time :func:`build_profile` summarises the reference: the training vocabulary, and on the
validation split (texts the model never fitted) the distributions of text length, out-of-vocabulary
rate, language, predicted class and confidence. It is saved in the model folder
(``reference_profile.json``), so it travels with the model through MLflow and into the service.

:func:`compare` bins a current sample the same way and tests each feature with two numbers:

- the **population stability index** (PSI, ``Σ (c - r) · ln(c / r)`` over the bins) as the size of
  the shift: it does not grow with the sample, and the monitoring conventions read it as
  < 0.1 stable, 0.1–0.25 moderate, > 0.25 major;
- a **chi-square test of homogeneity** on the bin counts (reference vs current) for whether the shift
  is more than sampling noise: with a few dozen texts the PSI alone swings widely.

A feature drifts when both say so (PSI ≥ ``psi_threshold`` and p < ``alpha``); the sample drifts
when any feature does. The defaults (0.2, 0.01) gave no false alarm on 200 samples of unshifted
held-out rows (``tests/code/test_drift.py``) and flag the airline tweets against the Sentiment140
champion (``docs/benchmarks.md``).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

PROFILE_FILE = "reference_profile.json"
MIN_CURRENT = 50  # fewer texts than this: no verdict
VOCABULARY_SIZE = 30_000
LENGTH_BINS = 10
OOV_EDGES = [0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0001]
CONFIDENCE_BINS = 10
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# A few of each language's commonest function words: enough to tell English from French in a tweet.
_STOP = {
    "en": frozenset(
        (
            "the",
            "and",
            "is",
            "are",
            "was",
            "to",
            "of",
            "in",
            "it",
            "you",
            "that",
            "this",
            "for",
            "not",
            "with",
            "my",
            "have",
            "be",
            "on",
            "at",
            "but",
        )
    ),
    "fr": frozenset(
        (
            "le",
            "la",
            "les",
            "et",
            "est",
            "un",
            "une",
            "des",
            "du",
            "de",
            "pas",
            "que",
            "qui",
            "je",
            "vous",
            "pour",
            "dans",
            "ce",
            "il",
            "sur",
            "ne",
            "au",
        )
    ),
}


def words(text: str) -> list[str]:
    """Lower-cased alphabetic words (no digits, no punctuation)."""
    return _WORD.findall(text.lower())


def language_of(tokens: Sequence[str]) -> str:
    """``en``, ``fr`` or ``other``: the language with the most function words among ``tokens``.

    >>> language_of(words("le vol est en retard et je ne suis pas content"))
    'fr'
    >>> language_of(words("12:30 !!!"))
    'other'
    """
    counts = {lang: sum(t in stop for t in tokens) for lang, stop in _STOP.items()}
    best = max(counts, key=lambda lang: counts[lang])
    return best if counts[best] > 0 and list(counts.values()).count(counts[best]) == 1 else "other"


@dataclass
class Feature:
    """One binned feature of the reference: bin edges (numeric) or categories, and the counts."""

    name: str
    counts: list[int]
    edges: list[float] | None = None  # numeric: len(counts) + 1 edges
    categories: list[str] | None = None

    def bin(self, values: Sequence[Any]) -> list[int]:
        """Counts of ``values`` in this feature's bins (values past the edges go to the end bins)."""
        if self.categories is not None:
            index = {c: i for i, c in enumerate(self.categories)}
            counts = [0] * len(self.categories)
            for v in values:
                if v in index:
                    counts[index[v]] += 1
            return counts
        assert self.edges is not None
        inner = np.asarray(self.edges[1:-1], dtype=float)
        idx = np.searchsorted(inner, np.asarray(values, dtype=float), side="right")
        return np.bincount(idx, minlength=len(self.edges) - 1).astype(int).tolist()

    def labels(self) -> list[str]:
        """A readable name per bin."""
        if self.categories is not None:
            return list(self.categories)
        assert self.edges is not None
        return [f"{a:g}–{b:g}" for a, b in zip(self.edges[:-1], self.edges[1:], strict=True)]


@dataclass
class Profile:
    """The reference of a model: its vocabulary and binned features, with how many texts made them."""

    n: int
    vocabulary: list[str]
    features: dict[str, Feature]
    classes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "classes": self.classes,
            "vocabulary": self.vocabulary,
            "features": {name: asdict(f) for name, f in self.features.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Profile:
        features = {name: Feature(**f) for name, f in data["features"].items()}
        return cls(int(data["n"]), list(data["vocabulary"]), features, list(data.get("classes", [])))

    def save(self, folder: Path) -> Path:
        path = folder / PROFILE_FILE
        path.write_text(json.dumps(self.to_json()), encoding="utf-8")
        return path

    @classmethod
    def load(cls, folder: Path) -> Profile:
        """The profile saved in a model folder; ``FileNotFoundError`` names the folder when absent."""
        path = folder / PROFILE_FILE
        if not path.is_file():
            raise FileNotFoundError(
                f"{folder} has no {PROFILE_FILE}: the model was trained before drift profiles "
                "existed; retrain it, or pass --reference FILE"
            )
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))


def text_features(texts: Sequence[str], vocabulary: set[str]) -> dict[str, list[Any]]:
    """Per text: length in characters, out-of-vocabulary rate, language."""
    lengths, oov, langs = [], [], []
    for text in texts:
        tokens = words(text)
        lengths.append(len(text))
        oov.append(sum(t not in vocabulary for t in tokens) / len(tokens) if tokens else 0.0)
        langs.append(language_of(tokens))
    return {"length": lengths, "oov_rate": oov, "language": langs}


def model_features(model: Any, texts: Sequence[str]) -> dict[str, list[Any]]:
    """Per text: the predicted class (decision rule included) and the confidence (top probability)."""
    from nlpops.models.base import predicted_labels

    proba = np.asarray(model.predict_proba(list(texts)), dtype=float)
    return {
        "predicted_class": [str(c) for c in predicted_labels(model, proba)],
        "confidence": proba.max(axis=1).tolist(),
    }


def build_profile(model: Any, fit_texts: Sequence[str], reference_texts: Sequence[str]) -> Profile:
    """The reference profile: vocabulary of ``fit_texts``, distributions on ``reference_texts``."""
    counts = Counter(t for text in fit_texts for t in words(text))
    vocabulary = [w for w, n in counts.most_common(VOCABULARY_SIZE) if n >= 2]
    values = text_features(reference_texts, set(vocabulary)) | model_features(model, reference_texts)
    classes = [str(c) for c in model.classes_]
    quantiles = np.quantile(values["length"], np.linspace(0, 1, LENGTH_BINS + 1)) if reference_texts else []
    length_edges = sorted({0.0, *map(float, quantiles[1:-1]), math.inf})
    low = 1.0 / max(len(classes), 1)
    confidence_edges = np.linspace(low, 1.0, CONFIDENCE_BINS + 1).tolist()
    confidence_edges[-1] = 1.0001
    specs = {
        "length": Feature("length", [], edges=length_edges),
        "oov_rate": Feature("oov_rate", [], edges=OOV_EDGES),
        "language": Feature("language", [], categories=["en", "fr", "other"]),
        "predicted_class": Feature("predicted_class", [], categories=classes),
        "confidence": Feature("confidence", [], edges=confidence_edges),
    }
    for name, feature in specs.items():
        feature.counts = feature.bin(values[name])
    return Profile(len(reference_texts), vocabulary, specs, classes)


def psi(reference: Sequence[int], current: Sequence[int], floor: float = 1e-4) -> float:
    """Population stability index of two count vectors over the same bins (proportions floored so an
    empty bin does not make it infinite).

    >>> round(psi([50, 50], [50, 50]), 6), round(psi([90, 10], [10, 90]), 2)
    (0.0, 3.52)
    """
    r = np.maximum(np.asarray(reference, dtype=float) / max(sum(reference), 1), floor)
    c = np.maximum(np.asarray(current, dtype=float) / max(sum(current), 1), floor)
    return float(np.sum((c - r) * np.log(c / r)))


def chi2_pvalue(reference: Sequence[int], current: Sequence[int]) -> float:
    """p-value of the chi-square test that both count vectors come from one distribution."""
    from scipy.stats import chi2_contingency

    table = np.asarray([reference, current], dtype=float)
    table = table[:, table.sum(axis=0) > 0]  # bins empty on both sides say nothing
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 1.0
    return float(chi2_contingency(table)[1])


@dataclass
class FeatureDrift:
    """One feature's verdict."""

    feature: str
    psi: float
    p_value: float
    drifted: bool
    bins: list[str]
    reference: list[float]  # proportions
    current: list[float]


@dataclass
class DriftReport:
    """Every feature's verdict, and the overall one (``None`` when the sample is too small)."""

    drift_detected: bool | None
    n_reference: int
    n_current: int
    psi_threshold: float
    alpha: float
    features: list[FeatureDrift]
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def compare(
    profile: Profile,
    model: Any,
    texts: Sequence[str],
    psi_threshold: float = 0.2,
    alpha: float = 0.01,
    model_values: dict[str, list[Any]] | None = None,
) -> DriftReport:
    """Test ``texts`` (the current sample) against ``profile``, feature by feature.

    Args:
        profile: the model's reference profile.
        model: the model, to predict the current texts (unless ``model_values`` are given, e.g. the
            service's stored predictions).
        texts: the current texts.
        psi_threshold: the PSI from which a shift counts as large.
        alpha: the chi-square test's significance level.
        model_values: ``predicted_class`` and ``confidence`` per text, when already known.
    """
    if len(texts) < MIN_CURRENT:
        return DriftReport(
            None, profile.n, len(texts), psi_threshold, alpha, [],
            reason=f"{len(texts)} texts: at least {MIN_CURRENT} are needed for a verdict",
        )  # fmt: skip
    values = text_features(texts, set(profile.vocabulary))
    values |= model_values if model_values is not None else model_features(model, texts)
    results = []
    for name, feature in profile.features.items():
        current = feature.bin(values[name])
        index, p = psi(feature.counts, current), chi2_pvalue(feature.counts, current)
        results.append(
            FeatureDrift(
                name,
                index,
                p,
                index >= psi_threshold and p < alpha,
                feature.labels(),
                _proportions(feature.counts),
                _proportions(current),
            )
        )
    return DriftReport(any(f.drifted for f in results), profile.n, len(texts), psi_threshold, alpha, results)


def _proportions(counts: Sequence[int]) -> list[float]:
    total = max(sum(counts), 1)
    return [c / total for c in counts]


def write_report(report: DriftReport, out: Path, title: str) -> Path:
    """``drift.json``, one bar chart per feature and ``report.html`` (reference vs current) in ``out``
    (a staging folder: ``outputs.staged_dir``)."""
    import html

    import matplotlib.pyplot as plt

    (out / "drift.json").write_text(json.dumps(report.to_json(), indent=2), encoding="utf-8")
    rows, figures = [], []
    for f in report.features:
        fig, ax = plt.subplots(figsize=(6, 2.8))
        x = np.arange(len(f.bins))
        ax.bar(x - 0.2, f.reference, width=0.4, label="reference")
        ax.bar(x + 0.2, f.current, width=0.4, label="current")
        ax.set_xticks(x, f.bins, rotation=30, ha="right", fontsize=7)
        ax.set_title(f"{f.feature}: PSI {f.psi:.3f}, p {f.p_value:.2g}" + (" DRIFT" if f.drifted else ""))
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out / f"{f.feature}.png", dpi=110)
        plt.close(fig)
        verdict = "drift" if f.drifted else "stable"
        rows.append(
            f"<tr><td>{html.escape(f.feature)}</td><td>{f.psi:.3f}</td><td>{f.p_value:.3g}</td>"
            f"<td class='{verdict}'>{verdict}</td></tr>"
        )
        figures.append(f"<figure><img src='{f.feature}.png' alt='{html.escape(f.feature)}'></figure>")
    overall = {True: "drift detected", False: "no drift", None: "no verdict"}[report.drift_detected]
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:60rem;margin:auto;padding:1rem}}td,th{{padding:.2rem .6rem}}
.drift{{color:#b00;font-weight:bold}}.stable{{color:#070}}img{{max-width:100%}}</style></head><body>
<h1>{html.escape(title)}</h1><p><strong>{overall}</strong> — {report.n_current} current texts against a
reference of {report.n_reference}. A feature drifts when its PSI ≥ {report.psi_threshold} and the chi-square
p-value &lt; {report.alpha}. {html.escape(report.reason)}</p>
<table><tr><th>feature</th><th>PSI</th><th>p-value</th><th>verdict</th></tr>{"".join(rows)}</table>
{"".join(figures)}</body></html>"""
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
