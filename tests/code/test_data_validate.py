"""Validation report on tiny files with duplicates, conflicts and empty texts; the normaliser."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlpops.data import normalize_text, validate_dataset

CSV = """text,label
I love it,pos
I love it,pos
i LOVE   it http://x.co/1,pos
@bob bad day,neg
bad day,pos
,neg
   ,neg
fine,neg
"""


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Hello   World ", "hello world"),
        ("@user check https://t.co/abc now", "check now"),
        ("www.example.com", ""),
        ("Ｆｕｌｌｗｉｄｔｈ", "fullwidth"),
        ("tab\tand\nnewline", "tab and newline"),
    ],
)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_report_counts(tmp_path: Path) -> None:
    path = tmp_path / "tiny.csv"
    path.write_text(CSV)
    report = validate_dataset(path)
    assert report.ok and report.rows == 8 and report.format == "csv"
    assert report.empty_texts == 2
    assert report.exact_duplicates == 1  # the second "I love it"
    assert report.normalized_duplicates == 3  # + the URL variant, + "bad day"
    assert (report.conflicting_texts, report.conflicting_rows) == (1, 2)
    assert report.class_balance == {"neg": 4, "pos": 4}
    assert report.chars is not None and report.chars.min == 0 and report.chars.max == 25
    assert report.words is not None and report.words.median == 2.5
    assert any("conflicting labels" in w for w in report.warnings)
    assert any("empty" in w for w in report.warnings)


def test_report_errors_are_fatal_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "a", "label": "x"}\n{"text": \n')
    report = validate_dataset(path)
    assert not report.ok
    assert report.errors == [f"{path}: line 2: malformed JSON (Expecting value)"]


def test_report_all_empty_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty_texts.csv"
    path.write_text("text,label\n,a\n ,b\n")
    report = validate_dataset(path)
    assert not report.ok and "no non-empty texts" in report.errors[0]


def test_imbalance_and_single_class_warnings(tmp_path: Path) -> None:
    path = tmp_path / "imb.csv"
    path.write_text("text,label\n" + "".join(f"t{i},a\n" for i in range(12)) + "u,b\n")
    assert any("imbalanced" in w for w in validate_dataset(path).warnings)
    path.write_text("text,label\nx,a\ny,a\n")
    assert "only one class" in validate_dataset(path).warnings
