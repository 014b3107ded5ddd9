"""The transformer skills tagger: BIO tags on word pieces, windows, training, the spaCy component.

A tiny randomly initialised BERT (hidden size 32, MiniLM's tokenizer) keeps these to seconds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("transformers")

from skills_support import tiny_records

from hf_support import tiny_checkpoint
from nlpops.skills.schema import Record
from nlpops.skills.score import score_spans
from nlpops.skills.tagger import IGNORE, TAGS, SkillsTagger, decode_spans, piece_tags

RECORDS = [Record(r["text"], tuple(tuple(s) for s in r["label"])) for r in tiny_records()]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> str:
    return tiny_checkpoint(tmp_path_factory.mktemp("ckpt"), "bert")


@pytest.fixture(scope="module")
def tokenizer(checkpoint: str) -> object:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(checkpoint)


def _params(checkpoint: str, **over: object) -> dict:
    base = {"checkpoint": checkpoint, "max_epochs": 40, "learning_rate": 3e-3, "batch_size": 4}
    return base | {"max_length": 32, "stride": 8, "n_jobs": 1, "random_state": 1} | over


@pytest.fixture(scope="module")
def fitted(checkpoint: str) -> SkillsTagger:
    return SkillsTagger(**_params(checkpoint)).fit(RECORDS)


def test_tags_follow_the_word_pieces_and_decode_back(tokenizer: object) -> None:
    text = "Skills: PostgreSQL, SQL Server and pyspark on AWS."
    spans = [(8, 18, "DB"), (20, 30, "DB"), (35, 42, "FRAMEWORKS"), (46, 49, "PLATFORM")]
    enc = tokenizer(text, return_offsets_mapping=True)  # type: ignore[operator]
    offsets = [tuple(o) for o in enc["offset_mapping"]]
    tags = piece_tags(offsets, spans)
    assert tags[0] == tags[-1] == IGNORE  # [CLS] and [SEP]
    named = [TAGS[t] for t in tags[1:-1]]
    first_db = named.index("B-DB")
    assert named[first_db + 1] == "I-DB"  # "postgresql" is several pieces: one B, then I
    assert named.count("B-DB") == 2 and named.count("B-FRAMEWORKS") == 1
    assert decode_spans(offsets, [max(t, 0) for t in tags]) == set(spans)


def test_decoding_is_lenient_and_splits_on_label_changes() -> None:
    offsets = [(0, 3), (3, 6), (7, 10), (11, 14), (14, 16)]
    b_db, i_db, i_pl = TAGS.index("B-DB"), TAGS.index("I-DB"), TAGS.index("I-PLATFORM")
    assert decode_spans(offsets, [b_db, i_db, 0, i_pl, i_db]) == {
        (0, 6, "DB"),
        (11, 14, "PLATFORM"),  # an I after O opens a span
        (14, 16, "DB"),  # a label change closes the open span
    }


def test_fine_tuning_lowers_the_loss_and_beats_the_untrained_tagger(
    checkpoint: str, fitted: SkillsTagger
) -> None:
    gold = [set(r.spans) for r in RECORDS]
    untrained = SkillsTagger(**_params(checkpoint, max_epochs=1, learning_rate=1e-9)).fit(RECORDS)
    before = score_spans(gold, untrained.predict_spans([r.text for r in RECORDS]))["micro_f1"]
    after = score_spans(gold, fitted.predict_spans([r.text for r in RECORDS]))["micro_f1"]
    assert fitted.history_[-1] < fitted.history_[0] / 3
    assert after > before + 0.5, (before, after)


def test_long_texts_are_windowed_and_every_window_is_read(fitted: SkillsTagger) -> None:
    long = " ".join(r.text for r in RECORDS * 3)  # ~200 pieces: many 32-piece windows
    windows, offsets = fitted._windows([long])
    assert len(windows.ids) > 5 and all(len(ids) <= 32 for ids in windows.ids)
    last_start = max(s for window in offsets for s, e in window if e > s)
    assert last_start > len(long) - 10  # the last window reaches the end of the text
    found = fitted.predict_spans([long])[0]
    assert found and max(start for start, _, _ in found) > len(long) // 2


def test_save_load_gives_the_same_spans(fitted: SkillsTagger, tmp_path: Path) -> None:
    texts = [r.text for r in RECORDS]
    again = SkillsTagger.load(fitted.save(tmp_path / "tagger"))
    assert again.predict_spans(texts) == fitted.predict_spans(texts)
    assert again.get_params() == fitted.get_params()
    with pytest.raises(FileNotFoundError, match="not a skills tagger folder"):
        SkillsTagger.load(tmp_path)


@pytest.mark.training
def test_pipeline_with_the_transformer_as_ner(checkpoint: str, tmp_path: Path) -> None:
    from nlpops.skills.ner import annotate, build_pipeline, evaluate_records, load_pipeline, train_ner

    patterns = [{"label": "PROG_LANG", "pattern": [{"LOWER": "python"}], "id": "Python"}]
    nlp = build_pipeline("blank_fr", patterns, "before", transformer=_params(checkpoint))
    losses = train_ner(nlp, RECORDS, max_epochs=1)  # the tagger's own epochs apply
    assert len(losses) == 40 and losses[-1] < losses[0]
    scores = evaluate_records(nlp, RECORDS)
    assert set(scores) == {"ruler", "ner", "both", "ner_first"} and scores["ner"]["micro_f1"] > 0.5
    nlp.to_disk(tmp_path / "pipeline")
    loaded = load_pipeline(tmp_path / "pipeline")
    texts = [r.text for r in RECORDS]
    ents = [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in annotate(nlp, texts)]
    assert [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in annotate(loaded, texts)] == ents


def test_an_untrained_component_says_so(checkpoint: str) -> None:
    from nlpops.skills.ner import build_pipeline

    nlp = build_pipeline("blank_fr", [], "none", transformer=_params(checkpoint))
    with pytest.raises(ValueError, match="not trained"):
        nlp("Python")


def test_config_chooses_the_model_and_names_a_wrong_one(tmp_path: Path) -> None:
    from nlpops.skills.config import load_skills_config

    path = tmp_path / "skills.yaml"
    path.write_text("training:\n  model: transformer\n  transformer: {max_epochs: 3, max_length: 64}\n")
    cfg = load_skills_config(path)
    assert cfg.training.model == "transformer" and cfg.training.transformer.max_epochs == 3
    assert cfg.training.transformer.checkpoint == "minilm"
    with pytest.raises(
        ValueError, match=r"skills.yaml: training.model: Input should be 'spacy' or 'transformer'"
    ):
        load_skills_config(path, ["training.model=bert"])
    with pytest.raises(ValueError, match=r"training.transformer.max_length"):
        load_skills_config(path, ["training.transformer.max_length=4"])
    with pytest.raises(ValueError, match=r"training.transformer: .*stride \(32\) must be at most half"):
        load_skills_config(path, ["training.transformer.max_length=48"])


def test_tagger_parameters_use_the_naming_table() -> None:
    from nlpops.models.names import RENAMED
    from nlpops.skills.components import TransformerSkills

    assert not set(SkillsTagger().get_params()) & set(RENAMED)
    # a pipeline saved before the rename carries the old names in its component config
    old = TransformerSkills({"epochs": 3, "seed": 1, "num_threads": 1, "learning_rate": 1e-3})
    assert old.params == {"max_epochs": 3, "random_state": 1, "n_jobs": 1, "learning_rate": 1e-3}
