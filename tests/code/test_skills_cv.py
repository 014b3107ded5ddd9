"""Cross-validation by distinct text: folds never share a text, every text is tested once, and the
served combination is the best mean micro-F1 over the folds."""

from __future__ import annotations

import pytest
from skills_support import tiny_records

from nlpops.skills.cv import CVResult, cross_validate, kfold_distinct, learns_lexicon, split_row
from nlpops.skills.lexicon import Lexicon
from nlpops.skills.patterns import Skill
from nlpops.skills.schema import Record


def records(n: int) -> list[Record]:
    return [Record(f"posting number {i}", ((0, 7, "PROG_LANG"),), str(i)) for i in range(n)]


@pytest.mark.parametrize(("n", "folds"), [(65, 5), (12, 5), (7, 3), (2, 2)])
def test_folds_never_share_a_text_and_test_each_once(n: int, folds: int) -> None:
    data = records(n) + records(n)[: n // 2]  # repeated postings, as in the scrape
    splits = kfold_distinct(data, folds, seed=13)
    assert len(splits) == folds
    tested = [r.text for _, test in splits for r in test]
    assert sorted(tested) == sorted({r.text for r in data})  # each distinct text tested exactly once
    for train, test in splits:
        assert not {r.text for r in train} & {r.text for r in test}
        assert len(train) + len(test) == n
    sizes = [len(test) for _, test in splits]
    assert max(sizes) - min(sizes) <= 1


def test_folds_are_seeded() -> None:
    texts = lambda seed: [[r.text for r in test] for _, test in kfold_distinct(records(20), 5, seed)]  # noqa: E731
    assert texts(1) == texts(1) and texts(1) != texts(2)


def test_too_few_texts_for_the_folds() -> None:
    with pytest.raises(ValueError, match="at least 5 distinct texts"):
        kfold_distinct(records(3) * 2, 5, seed=0)


def fold_scores(f1: float, prog: float) -> dict:
    labels = {label: {"precision": f1, "recall": f1, "f1": f1} for label in ("DB", "PLATFORM", "FRAMEWORKS")}
    labels["PROG_LANG"] = {"precision": prog, "recall": prog, "f1": prog}
    return {"micro_f1": f1, "micro_precision": f1, "micro_recall": f1, "per_label": labels}


def test_summary_is_mean_and_sd_and_the_best_row_wins() -> None:
    result = CVResult(3, {"ruler": [fold_scores(x, 0.5) for x in (0.8, 0.9, 1.0)]})
    result.scores["spacy:both"] = [fold_scores(x, 1.0) for x in (0.7, 0.95, 0.95)]
    summary = result.summary()
    assert summary["ruler"]["f1"] == (pytest.approx(0.9), pytest.approx(0.1))
    assert summary["spacy:both"]["per_label"]["PROG_LANG"]["f1"] == (1.0, 0.0)
    assert result.best() == "ruler"  # 0.900 > 0.867
    assert result.metrics()["cv_spacy_both_micro_f1_sd"] == pytest.approx(0.1443, abs=1e-4)
    assert split_row("spacy:ner_first") == ("spacy", "ner_first") and split_row("ruler") == (None, "ruler")
    assert split_row("spacy:both+guidelines") == ("spacy", "both")
    assert split_row("ruler+guidelines") == (None, "ruler")
    assert learns_lexicon("spacy:both") and not learns_lexicon("ruler+guidelines")


@pytest.mark.training
def test_cross_validate_trains_one_pipeline_per_fold() -> None:
    from nlpops.skills.config import SkillsConfig

    cfg = SkillsConfig.model_validate(
        {"cv": {"folds": 3, "seed": 1}, "training": {"base": "blank_en", "max_epochs": 2}}
    )
    data = [Record(r["text"], tuple(tuple(s) for s in r["label"])) for r in tiny_records()]
    lexicon = Lexicon(((Skill("Python", "Python", "PROG_LANG"),),), (), frozenset())
    seen: list[tuple[str, int, int]] = []
    result = cross_validate(cfg, data, lexicon, on_fold=lambda *a: seen.append(a))
    assert seen == [("spacy", 1, 3), ("spacy", 2, 3), ("spacy", 3, 3)]
    assert set(result.scores) == {
        "ruler",
        "spacy:ner",
        "spacy:both",
        "spacy:ner_first",
        "ruler+guidelines",
        "spacy:both+guidelines",
        "spacy:ner_first+guidelines",
    }
    assert all(len(runs) == 3 for runs in result.scores.values())
    # the ruler knows "python" only, which one posting holds: right in that fold, silent in the others;
    # every other name is in one posting only, so the names learned from the training folds never hit
    for row in ("ruler", "ruler+guidelines"):
        assert sorted(s["micro_precision"] for s in result.scores[row]) == [0.0, 0.0, 1.0]


def posting(*names: tuple[str, str]) -> Record:
    """A posting listing ``names`` (surface, label) with their spans."""
    text, spans = "Stack:", []
    for name, label in names:
        text += " "
        spans.append((len(text), len(text) + len(name), label))
        text += name + ","
    return Record(text + " and more.", tuple(spans))


@pytest.mark.training
def test_the_learned_lexicon_never_sees_the_test_fold() -> None:
    """A name of one posting only is never tagged by the ruler when that posting is tested (the
    lexicon is learned from the other folds), unless the data files know it; a name of every posting
    is learned from the training folds and tagged in every test fold."""
    from nlpops.skills.config import SkillsConfig

    cfg = SkillsConfig.model_validate(
        {"cv": {"folds": 3, "seed": 1}, "training": {"base": "blank_en", "max_epochs": 1}}
    )
    once = ["Zorblax", "Quintor", "Vexaron", "Plimsoq", "Draxule", "Murgle"]
    data = [posting((name, "FRAMEWORKS"), ("Flimflam", "PLATFORM"), ("Python", "PROG_LANG")) for name in once]
    lexicon = Lexicon(((Skill("Python", "Python", "PROG_LANG"),),), (), frozenset())
    result = cross_validate(cfg, data, lexicon)
    for fold in result.scores["ruler"]:
        labels = fold["per_label"]
        assert labels["FRAMEWORKS"]["recall"] == 0.0  # the test postings' own names: not learned
        assert labels["PLATFORM"]["recall"] == 1.0  # learned from the training folds
        assert labels["PROG_LANG"]["recall"] == 1.0  # the data files' name, in every fold
    for fold in result.scores["ruler+guidelines"]:
        assert fold["per_label"]["PLATFORM"]["recall"] == 0.0
        assert fold["per_label"]["PROG_LANG"]["recall"] == 1.0
