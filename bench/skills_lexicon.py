"""How much of the ruler's score comes from its lexicon, in the same 5-fold CV by distinct text as
``nlpops skills evaluate --cv`` (the ruler rows only, no NER: about a minute on 2 cores).

    NLPOPS_DATA_DIR=/work/shared/data PYTHONPATH=src python bench/skills_lexicon.py [configs/skills.yaml]

Rows: the data files without any alias (the Wikipedia lists minus ``not_skills.txt``); the data files
(lists + the shipped aliases: names the guidelines name, names no gold text holds); the data files plus
the gold names learned from each fold's training texts (the registered pipeline's ruler, honest); and,
for comparison only, the same learned from ALL 65 texts, test folds included (optimistic: what a lexicon
written by reading the gold scores).
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nlpops.skills import ner
from nlpops.skills.config import load_skills_config
from nlpops.skills.cv import Fold, kfold_distinct
from nlpops.skills.dataset import load_split
from nlpops.skills.lexicon import GoldLexicon, Lexicon
from nlpops.skills.schema import LABELS, Record


def row(title: str, folds: list[Fold], patterns_for: Callable[[list[Record]], list[dict[str, Any]]]) -> None:
    """Print one table row: per-label F1 and micro P / R / F1, mean ± sd over the folds."""
    runs = [
        ner.evaluate_records(ner.ruler_pipeline(patterns_for(train)), test)["ruler"] for train, test in folds
    ]
    cells = [[s["per_label"][label]["f1"] for s in runs] for label in LABELS]
    cells += [[s[f"micro_{k}"] for s in runs] for k in ("precision", "recall", "f1")]
    print(
        f"| {title} | "
        + " | ".join(f"{statistics.fmean(c):.3f} ± {statistics.stdev(c):.3f}" for c in cells)
        + " |"
    )


def main(config: str) -> None:
    cfg = load_skills_config(Path(config))
    split = load_split(cfg)
    records: list[Record] = split.train + split.test
    folds = kfold_distinct(records, cfg.cv.folds, cfg.cv.seed)
    aliases = cfg.data.path(cfg.data.aliases) if cfg.data.aliases else None
    lexicon = Lexicon.from_files([cfg.data.path(p) for p in cfg.data.skill_lists], aliases)
    bare = Lexicon(lexicon.lists, (), lexicon.not_skills)
    learn = GoldLexicon(cfg.training.lexicon_min_precision)
    everything = learn.fit(records).skills_
    print(f"{len(records)} texts, {len(folds)} folds; {len(lexicon.aliases)} shipped aliases")
    row("lists only, no alias", folds, lambda train: bare.patterns())
    row("data files (`ruler+guidelines`)", folds, lambda train: lexicon.patterns())
    row(
        "data files + learned in fold (`ruler`)",
        folds,
        lambda train: lexicon.patterns(learn.fit(train).skills_),
    )
    row("data files + learned from all 65 (optimistic)", folds, lambda train: lexicon.patterns(everything))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "configs/skills.yaml")
