"""Compare skills pipelines on the held-out distinct texts: ruler only, NER only, both (no MLflow).

    PYTHONPATH=src python bench/skills_compare.py configs/skills.yaml [--set training.ruler=after ...]

Prints one markdown table per evaluation set (all held-out texts; the hand-corrected ones among them).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from nlpops.skills import ner
from nlpops.skills.config import load_skills_config
from nlpops.skills.dataset import load_split
from nlpops.skills.patterns import build_ruler_patterns
from nlpops.skills.schema import LABELS


def table(scores: dict[str, dict], title: str) -> str:
    """Scores of each mode as a markdown table (F1 per label, micro P/R/F1)."""
    lines = [f"**{title}**", "", "| mode | " + " | ".join(LABELS) + " | micro P | micro R | micro F1 |"]
    lines.append("|---" * (len(LABELS) + 4) + "|")
    for mode, s in scores.items():
        cells = [f"{s['per_label'][label]['f1']:.3f}" for label in LABELS]
        cells += [f"{s['micro_precision']:.3f}", f"{s['micro_recall']:.3f}", f"**{s['micro_f1']:.3f}**"]
        lines.append(f"| {mode} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def seed_ruler_scores(records: list) -> dict[str, dict]:
    """The seed project's own EntityRuler patterns (no aliases, no context rule), for reference."""
    import spacy

    from nlpops.settings import get_settings
    from nlpops.skills.patterns import read_patterns

    nlp = spacy.blank("fr")
    nlp.add_pipe("entity_ruler").add_patterns(  # type: ignore[attr-defined]
        read_patterns(get_settings().data_dir / "ner_jobs_skill_patterns.jsonl.gz")
    )
    return {"seed ruler": ner.evaluate_records(nlp, records)["ruler"]}


def main(config: str, overrides: list[str]) -> None:
    cfg = load_skills_config(Path(config), overrides)
    split = load_split(cfg)
    patterns = build_ruler_patterns([cfg.data.path(p) for p in cfg.data.skill_lists])
    t = cfg.training
    nlp = ner.build_pipeline(t.base, patterns, t.ruler, t.context_window, t.tagger_params())
    started = time.perf_counter()
    ner.train_ner(nlp, split.train + split.weak, t.max_epochs, t.dropout, t.batch_size, t.random_state)
    print(
        f"config {config} {overrides}: {split.manifest()}, trained in {time.perf_counter() - started:.0f} s"
    )
    reviewed = [r for r in split.test if r.reviewed]
    for records, title in (
        (split.test, "held-out distinct texts"),
        (reviewed, "held-out hand-corrected texts"),
    ):
        scores = seed_ruler_scores(records) | ner.evaluate_records(nlp, records)
        print(table(scores, f"{title} ({len(records)})"))


if __name__ == "__main__":
    args = sys.argv[1:]
    sets = [args[i + 1] for i, a in enumerate(args) if a == "--set"]
    main(args[0], sets)
