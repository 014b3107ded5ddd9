"""doccano import: spans round-trip, misaligned spans fixed or listed, duplicates resolved, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import spacy
from skills_support import tiny_records, write_jsonl

from nlpops.skills.doccano import (
    Record,
    docs_to_records,
    read_doccano,
    resolve_duplicates,
    to_docs,
    write_docbin,
)
from nlpops.skills.tokens import split_glued_words


@pytest.fixture(scope="module")
def nlp():
    return split_glued_words(spacy.blank("fr"))


def test_round_trip_through_docbin(nlp, tmp_path: Path) -> None:
    from spacy.tokens import DocBin

    records = read_doccano(write_jsonl(tmp_path / "a.jsonl", tiny_records()))
    docs, report = to_docs(nlp, records)
    assert report.issues == [] and report.spans == 18
    out = write_docbin(docs, tmp_path / "a.spacy")
    back = list(DocBin().from_disk(out).get_docs(nlp.vocab))
    assert [(r.text, r.spans) for r in docs_to_records(back)] == [(r.text, r.spans) for r in records]


def test_misaligned_spans_fixed_when_safe_listed_otherwise(nlp) -> None:
    text = "Skills: Python , Sqlserver and PythonDemonstrated. Java-"
    spans = ((8, 15, "PROG_LANG"), (17, 20, "PROG_LANG"), (31, 37, "PROG_LANG"), (51, 55, "PROG_LANG"))
    docs, report = to_docs(nlp, [Record(text, spans, "7")])
    assert [e.text for e in docs[0].ents] == ["Python", "Python", "Java-"]
    actions = {i.text: i.action for i in report.issues}
    assert actions["Java"] == "fixed: expanded to 'Java-'"  # only punctuation added: safe
    assert (report.fixed, report.dropped) == (2, 1)
    assert actions["Python "] == "fixed: stripped whitespace"
    assert actions["Sql"].startswith("dropped: not on token boundaries") and "Sqlserver" in actions["Sql"]
    assert "Python" not in actions  # the glued "PythonDemonstrated" is split by the tokenizer


def test_duplicates_keep_the_corrected_copy() -> None:
    pre = [Record("a text", ((0, 1, "PROG_LANG"),))]
    copies = [
        Record("a text", ((0, 1, "PROG_LANG"),), "1"),
        Record("a text", ((2, 6, "DB"),), "2"),
        Record("a text", ((0, 1, "PROG_LANG"),), "3"),
        Record("other", (), "4"),
    ]
    resolved = resolve_duplicates(copies, pre)
    assert [(r.id, r.reviewed) for r in resolved] == [("2", True), ("4", False)]
    assert [r.id for r in resolve_duplicates(copies)] == ["2", "4"]  # majority = pre-annotation


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("", "no annotated texts"),
        ("not json\n", "line 1: malformed JSON"),
        ('{"id": 1}\n', "line 1: expected an object with a 'text'"),
        ('{"text": "abc", "label": [[0, 9, "DB"]]}\n', "outside the text"),
        ('{"text": "abc", "label": [[0, 2, "SKILL"]]}\n', "unknown label 'SKILL'"),
        ('{"text": "abc", "label": [[0, "x", "DB"]]}\n', "bad span"),
    ],
)
def test_bad_files_are_named(tmp_path: Path, content: str, needle: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(ValueError, match=needle):
        read_doccano(path)


def test_new_doccano_entity_format(tmp_path: Path) -> None:
    item = {"text": "use Go", "entities": [{"start_offset": 4, "end_offset": 6, "label": "PROG_LANG"}]}
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(item) + "\n")
    assert read_doccano(path)[0].spans == ((4, 6, "PROG_LANG"),)
