"""K-fold cross-validation by distinct text: every pipeline mode, scored as mean ± sd over the folds.

With 65 annotated texts one held-out split of 20 is noise (a few postings swing micro-F1 by 0.05), so
the combination to serve (ruler, NER, transformer tagger, and their orders) is chosen on the folds'
mean micro-F1, never on the registered model's test texts. Each fold trains a fresh pipeline on the
other folds (plus the weak records, which are never gold texts), learns its ruler's gold names from
those folds only, and scores it on its own texts.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nlpops.skills.config import SkillsConfig
from nlpops.skills.lexicon import Lexicon
from nlpops.skills.schema import LABELS, Record

Fold = tuple[list[Record], list[Record]]
OnFold = Callable[[str, int, int], None]
METRICS = ("precision", "recall", "f1")


def kfold_distinct(records: list[Record], folds: int, seed: int) -> list[Fold]:
    """``folds`` (train, test) pairs over the DISTINCT texts (seeded); each text is tested exactly once.

    Raises:
        ValueError: fewer distinct texts than folds, or a text on both sides of a fold.
    """
    distinct = list({r.text: r for r in records}.values())
    if folds < 2 or len(distinct) < folds:
        raise ValueError(f"{folds}-fold cross-validation needs at least {max(folds, 2)} distinct texts")
    order = list(range(len(distinct)))
    random.Random(seed).shuffle(order)
    out = []
    for k in range(folds):
        test = [distinct[i] for i in order[k::folds]]
        train = [distinct[i] for i in order if i not in set(order[k::folds])]
        if {r.text for r in train} & {r.text for r in test}:
            raise ValueError(f"fold {k + 1}: a text is on both sides")
        out.append((train, test))
    return out


@dataclass
class CVResult:
    """Per row (``spacy:both``, ``transformer:ner``, ``ruler``…), each fold's scores; and the summary."""

    folds: int
    scores: dict[str, list[dict]] = field(default_factory=dict)

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per row: mean and sd over the folds of micro P/R/F1 and of each label's P/R/F1."""
        out = {}
        for row, runs in self.scores.items():
            summary: dict[str, Any] = {
                k: _mean_sd([s[f"micro_{k}"] for s in runs]) for k in ("precision", "recall", "f1")
            }
            summary["per_label"] = {
                label: {k: _mean_sd([s["per_label"][label][k] for s in runs]) for k in METRICS}
                for label in LABELS
            }
            out[row] = summary
        return out

    def best(self) -> str:
        """The row with the highest mean micro-F1 (ties: the first row measured)."""
        summary = self.summary()
        return max(summary, key=lambda row: summary[row]["f1"][0])

    def metrics(self) -> dict[str, float]:
        """Flat MLflow metrics: ``cv_<row>_micro_f1`` (mean), ``…_sd``, and each label's F1."""
        out: dict[str, float] = {}
        for row, s in self.summary().items():
            key = "cv_" + row.replace(":", "_").replace("+", "_")
            out[f"{key}_micro_f1"], out[f"{key}_micro_f1_sd"] = s["f1"]
            out |= {f"{key}_{label}_f1": s["per_label"][label]["f1"][0] for label in LABELS}
        return out


def _mean_sd(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


GUIDELINES = "+guidelines"  # the suffix of a row whose ruler has the data files' names only


def cross_validate(
    cfg: SkillsConfig,
    records: list[Record],
    lexicon: Lexicon,
    weak: list[Record] | None = None,
    on_fold: OnFold | None = None,
) -> CVResult:
    """Train and score every model kind of ``cfg.cv_models`` on ``cfg.cv.folds`` folds.

    Each fold's ruler has the data files' names (``lexicon``) and the names learned from the fold's
    training texts only (:class:`~nlpops.skills.lexicon.GoldLexicon`). Rows: ``ruler`` (no training:
    scored once per fold), and per model kind ``<kind>:ner``, ``<kind>:both`` (ruler first) and
    ``<kind>:ner_first``; each row with a ruler again as ``…+guidelines``, the data files' names only
    (the same trained NER); only ``<kind>:ner`` with ``training.ruler: none``.
    """
    from nlpops.skills import ner
    from nlpops.skills.lexicon import GoldLexicon

    t = cfg.training
    result = CVResult(cfg.cv.folds)
    folds = kfold_distinct(records, cfg.cv.folds, cfg.cv.seed)
    guide = lexicon.patterns()
    for kind in cfg.cv_models:
        tagger = t.model_copy(update={"model": kind}).tagger_params()
        for k, (train, test) in enumerate(folds, 1):
            if on_fold:
                on_fold(kind, k, len(folds))
            learned = GoldLexicon(t.lexicon_min_precision).fit(train).skills_  # training texts only
            ruler = "none" if t.ruler == "none" else "before"  # the modes set the order, not the build
            nlp = ner.build_pipeline(t.base, lexicon.patterns(learned), ruler, t.context_window, tagger)
            ner.train_ner(nlp, train + (weak or []), t.max_epochs, t.dropout, t.batch_size, t.random_state)
            scores = dict(ner.evaluate_records(nlp, test))
            if ruler != "none":
                ner.set_patterns(nlp, guide)
                modes = ner.evaluate_records(nlp, test).items()
                scores |= {mode + GUIDELINES: s for mode, s in modes if mode != "ner"}
            for mode, s in scores.items():
                if mode.startswith("ruler") and kind != cfg.cv_models[0]:
                    continue  # the ruler does not depend on the model kind
                row = mode if mode.startswith("ruler") else f"{kind}:{mode}"
                result.scores.setdefault(row, []).append(s)
    return result


def split_row(row: str) -> tuple[str | None, str]:
    """``"spacy:both"`` → ``("spacy", "both")``; ``"ruler"`` → ``(None, "ruler")`` (and the same
    with a ``+guidelines`` suffix: :func:`learns_lexicon` tells them apart)."""
    kind, _, mode = row.removesuffix(GUIDELINES).rpartition(":")
    return kind or None, mode


def learns_lexicon(row: str) -> bool:
    """Whether the row's ruler learns the training texts' gold names (no ``+guidelines`` suffix)."""
    return not row.endswith(GUIDELINES)
