"""How much of the ruler's score comes from its lexicon: the ruler with every shipped alias, with only the
aliases the annotation guidelines name (alias or normalised name in ner_jobs_annotation_guidelines.md), and
with none (the Wikipedia lists alone), scored on all 65 reviewed texts (the ruler is not trained).

    PYTHONPATH=src python bench/skills_lexicon.py [configs/skills.yaml]

The shipped aliases were also written from the review log of these texts, so "every alias" is an
optimistic figure for unseen postings and "guideline-named only" a pessimistic one.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from nlpops.skills import ner
from nlpops.skills.config import load_skills_config
from nlpops.skills.doccano import read_doccano
from nlpops.skills.patterns import (
    Skill,
    build_patterns,
    default_not_skills,
    merge_skills,
    read_aliases,
    read_skill_list,
)


def named_in(guide: str, skill: Skill) -> bool:
    """Whether the alias or its normalised name appears as a word in the guidelines."""
    return any(
        re.search(r"(?<!\w)" + re.escape(name.lower()) + r"(?!\w)", guide)
        for name in (skill.text, skill.canonical)
    )


def main(config: str) -> None:
    cfg = load_skills_config(Path(config))
    records = read_doccano(cfg.data.path(cfg.data.annotations))
    guide = (cfg.data.path("{data_dir}") / "ner_jobs_annotation_guidelines.md").read_text("utf-8").lower()
    lists = [read_skill_list(cfg.data.path(p)) for p in cfg.data.skill_lists]
    aliases = read_aliases()
    named = [a for a in aliases if named_in(guide, a)]
    print(f"{len(aliases)} aliases, {len(named)} named in the guidelines; {len(records)} texts")
    for title, chosen in (("every alias", aliases), ("guideline-named aliases", named), ("no alias", [])):
        nlp = ner.ruler_pipeline(build_patterns(merge_skills(lists, chosen, default_not_skills())))
        s = ner.evaluate_records(nlp, records)["ruler"]
        cells = [v["f1"] for v in s["per_label"].values()]
        cells += [s["micro_precision"], s["micro_recall"], s["micro_f1"]]
        print(f"| {title} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "configs/skills.yaml")
