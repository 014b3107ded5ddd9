"""Span scores, and a few training steps on tiny postings beat the untrained NER."""

from __future__ import annotations

import pytest
from skills_support import tiny_records

from nlpops.skills.schema import Record
from nlpops.skills.score import flat_metrics, score_spans


def test_score_spans_counts_exact_matches() -> None:
    gold = [{(0, 6, "PROG_LANG"), (10, 15, "DB")}, {(0, 3, "PLATFORM")}]
    pred = [{(0, 6, "PROG_LANG"), (10, 15, "PROG_LANG")}, set()]
    s = score_spans(gold, pred)
    assert s["per_label"]["PROG_LANG"] == {
        "precision": 0.5,
        "recall": 1.0,
        "f1": pytest.approx(2 / 3),
        "support": 1.0,
    }
    assert s["per_label"]["DB"]["recall"] == 0.0 and s["per_label"]["PLATFORM"]["support"] == 1.0
    assert s["micro_precision"] == 0.5 and s["micro_recall"] == pytest.approx(1 / 3)
    assert flat_metrics(s, "test_both")["test_both_PROG_LANG_f1"] == pytest.approx(2 / 3)


@pytest.mark.training
def test_training_on_a_few_docs_beats_the_untrained_model() -> None:
    from nlpops.skills.ner import build_pipeline, evaluate_records, train_ner

    records = [Record(r["text"], tuple(tuple(s) for s in r["label"])) for r in tiny_records()]
    nlp = build_pipeline("blank_en", [], ruler="none")
    nlp.initialize()
    before = evaluate_records(nlp, records)["ner"]["micro_f1"]
    losses = train_ner(nlp, records, max_epochs=12, dropout=0.1, batch_size=2, random_state=1)
    after = evaluate_records(nlp, records)["ner"]["micro_f1"]
    assert losses[-1] < losses[0]
    assert after > before + 0.5, (before, after)


def test_modes_of_a_pipeline_with_ruler_and_ner() -> None:
    from nlpops.skills.ner import annotate, available_modes, build_pipeline

    patterns = [{"label": "PROG_LANG", "pattern": [{"LOWER": "python"}], "id": "Python"}]
    nlp = build_pipeline("blank_fr", patterns, ruler="before")
    nlp.initialize()
    nlp.get_pipe("entity_ruler").add_patterns(patterns)  # initialize clears a ruler
    assert available_modes(nlp) == ["ruler", "ner", "both", "ner_first"]
    assert [e.text for e in annotate(nlp, ["Du Python"], "ruler")[0].ents] == ["Python"]
    assert annotate(nlp, ["Du Python"], "ner")[0].ents == ()  # the untrained NER alone finds nothing


def test_served_mode_is_saved_with_the_pipeline(tmp_path) -> None:
    from nlpops.skills.ner import annotate, build_pipeline, load_pipeline, served_mode

    patterns = [{"label": "PROG_LANG", "pattern": [{"LOWER": "python"}], "id": "Python"}]
    nlp = build_pipeline("blank_fr", patterns, ruler="before")
    nlp.initialize()
    nlp.get_pipe("entity_ruler").add_patterns(patterns)
    assert served_mode(nlp) == "both"  # nothing chosen: the ruler first, the NER after
    nlp.meta["nlpops"] = {"mode": "ruler"}
    nlp.to_disk(tmp_path / "p")
    loaded = load_pipeline(tmp_path / "p")
    assert served_mode(loaded) == "ruler"
    assert [e.text for e in annotate(loaded, ["Du Python"])[0].ents] == ["Python"]
    with pytest.raises(ValueError, match="cannot run mode 'ruler'"):
        annotate(build_pipeline("blank_fr", patterns, ruler="none"), ["x"], "ruler")
