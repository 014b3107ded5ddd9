"""The annotated postings as train/test records, split by DISTINCT text (no text on both sides)."""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass

from nlpops.skills.config import SkillsConfig
from nlpops.skills.doccano import read_doccano, resolve_duplicates
from nlpops.skills.schema import Record


@dataclass
class SkillsSplit:
    """Train and test records (one per distinct text), optional weak extra training records, and a hash."""

    train: list[Record]
    test: list[Record]
    weak: list[Record]
    test_hash: str

    def manifest(self) -> dict[str, object]:
        """Counts and the test hash, for MLflow."""
        return {
            "train_texts": len(self.train),
            "test_texts": len(self.test),
            "weak_texts": len(self.weak),
            "train_reviewed": sum(r.reviewed for r in self.train),
            "test_reviewed": sum(r.reviewed for r in self.test),
            "test_hash": self.test_hash,
        }


def split_distinct(records: list[Record], test_size: float, seed: int) -> tuple[list[Record], list[Record]]:
    """Deduplicate by text, then split the distinct texts (seeded), stratified on ``reviewed``.

    Stratifying keeps hand-corrected texts on both sides, so the test set is not all ruler output.
    """
    distinct = list({r.text: r for r in records}.values())
    if len(distinct) < 2:
        raise ValueError(f"need at least 2 distinct texts to split, got {len(distinct)}")
    rng = random.Random(seed)
    train, test = [], []
    for flag in (True, False):
        group = [r for r in distinct if r.reviewed is flag]
        rng.shuffle(group)
        n_test = round(len(group) * test_size)
        test += group[:n_test]
        train += group[n_test:]
    if not test or not train:
        raise ValueError(f"test_size={test_size} leaves an empty split of {len(distinct)} texts")
    return train, test


def check_no_leakage(train: list[Record], test: list[Record]) -> None:
    """Fail when a text is on both sides of the split."""
    shared = {r.text for r in train} & {r.text for r in test}
    if shared:
        raise ValueError(f"{len(shared)} text(s) in both train and test")


def _hash(records: list[Record]) -> str:
    rows = sorted((r.text, list(r.spans)) for r in records)
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]


def load_split(cfg: SkillsConfig) -> SkillsSplit:
    """Read the doccano file, resolve duplicates, split by distinct text, add weak data if asked."""
    records = read_doccano(cfg.data.path(cfg.data.annotations))
    pre = None
    if cfg.data.preannotated:
        pre = read_doccano(cfg.data.path(cfg.data.preannotated))
    resolved = resolve_duplicates(records, pre)
    train, test = split_distinct(resolved, cfg.split.test_size, cfg.split.seed)
    check_no_leakage(train, test)
    weak: list[Record] = []
    if cfg.data.weak_extra and pre:
        known = {r.text for r in resolved}  # never a test text, never a text already annotated
        weak = list({r.text: r for r in pre if r.text not in known}.values())
    return SkillsSplit(train, test, weak, _hash(test))
