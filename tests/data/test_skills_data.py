"""The real skills files: labels in the known set, spans inside their text, 65 distinct texts, no leakage."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nlpops.skills.config import SkillsConfig
from nlpops.skills.dataset import load_split
from nlpops.skills.doccano import read_doccano, resolve_duplicates
from nlpops.skills.patterns import read_patterns, read_skill_list
from nlpops.skills.schema import LABELS

DATA_DIR = Path(os.environ.get("NLPOPS_DATA_DIR") or Path(__file__).parents[2] / "../shared/data").resolve()
pytestmark = pytest.mark.skipif(not DATA_DIR.is_dir(), reason=f"real data folder {DATA_DIR} is absent")


@pytest.fixture(scope="module")
def annotated():
    return read_doccano(DATA_DIR / "ner_jobs_doccano_annotated.jsonl.gz")


@pytest.fixture(scope="module")
def preannotated():
    return read_doccano(DATA_DIR / "ner_jobs_entityruler_preannotated.jsonl.gz")


def test_doccano_file(annotated) -> None:
    # read_doccano already rejects unknown labels and spans outside the text; check the counts too
    assert len(annotated) == 293 and len({r.text for r in annotated}) == 65
    labels = {label for r in annotated for _, _, label in r.spans}
    assert labels == set(LABELS)
    assert all(r.text[s:e].strip() for r in annotated for s, e, _ in r.spans)


def test_preannotated_file_covers_the_doccano_texts(annotated, preannotated) -> None:
    assert len(preannotated) == 368
    assert {r.text for r in annotated} <= {r.text for r in preannotated}


def test_hand_corrected_texts_are_found(annotated, preannotated) -> None:
    resolved = resolve_duplicates(annotated, preannotated)
    assert len(resolved) == 65
    assert sum(r.reviewed for r in resolved) == 19  # copies that differ from the ruler's pre-annotation


def test_split_has_no_shared_text_and_weak_data_never_leaks() -> None:
    split = load_split(SkillsConfig.model_validate({"data": {"weak_extra": True}}))
    train, test = {r.text for r in split.train}, {r.text for r in split.test}
    assert len(train) + len(test) == 65 and not train & test
    assert not {r.text for r in split.weak} & (train | test)
    assert split.manifest()["test_reviewed"] >= 5


def test_skill_lists_and_original_patterns() -> None:
    counts = {}
    for name in ("languages", "databases", "platforms", "frameworks_tools_etc"):
        skills = read_skill_list(DATA_DIR / f"ner_jobs_skills_{name}.csv.gz")
        counts[name] = len(skills)
        assert all("(" not in s.text and "[" not in s.text for s in skills)
    assert counts["languages"] == 687 and counts["frameworks_tools_etc"] == 32
    assert counts["platforms"] < 262  # Wikipedia category rows ("Cloud databases (11 P)") dropped
    patterns = read_patterns(DATA_DIR / "ner_jobs_skill_patterns.jsonl.gz")
    assert len(patterns) == 1199 and {p["label"] for p in patterns} == set(LABELS)


def named_in_guidelines(alias: str, guide: str) -> bool:
    """The alias, or the name of its ``.js`` form, as a whole name in the (lowercased) guidelines."""
    import re

    stem = re.match(r"^(.+?)\.?\s?js$", alias, re.IGNORECASE)
    forms = {alias, alias.replace("-", " "), *([stem[1]] if stem else [])}
    return any(re.search(r"(?<![\w.])" + re.escape(f.lower()) + r"(?!\w|\.\w)", guide) for f in forms)


def test_shipped_aliases_never_come_from_the_gold_texts() -> None:
    """``aliases.tsv`` holds names the guidelines name; ``aliases_common.tsv`` names that no gold text
    holds. So no shipped alias can lift a cross-validated score by having been read from a test fold:
    the gold-only names are learned per fold (``GoldLexicon``)."""
    import spacy
    from spacy.matcher import PhraseMatcher

    from nlpops.skills.patterns import shipped_aliases, spelling_variants
    from nlpops.skills.tokens import split_glued_words

    guide = (DATA_DIR / "ner_jobs_annotation_guidelines.md").read_text(encoding="utf-8").lower()
    named = shipped_aliases("aliases.tsv")
    assert len(named) > 100
    assert [a.text for a in named if not named_in_guidelines(a.text, guide)] == []
    nlp = split_glued_words(spacy.blank("fr"))
    common = shipped_aliases("aliases_common.tsv")
    matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    for alias in common:
        matcher.add(alias.text, [nlp.make_doc(f) for f in spelling_variants(alias.text)])
    texts = {r.text for r in read_doccano(DATA_DIR / "ner_jobs_doccano_reviewed.jsonl.gz")}
    found = {nlp.vocab.strings[m] for text in texts for m, _, _ in matcher(nlp.make_doc(text))}
    assert len(common) > 50 and found == set()
    assert not {a.text.lower() for a in named} & {a.text.lower() for a in common}
