"""Extraction per posting (normalised names) and the demand report: one chart per category + HTML."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from nlpops.skills.aggregate import demand, extract_skills, read_extracted, read_postings
from nlpops.skills.report import write_report
from nlpops.skills.schema import LABELS


@pytest.fixture(scope="module")
def ruler():
    from nlpops.skills.ner import ruler_pipeline
    from nlpops.skills.patterns import Skill, build_patterns

    skills = [
        Skill("Python", "Python", "PROG_LANG"),
        Skill("AWS", "Amazon Web Services", "PLATFORM"),
        Skill("Amazon Web Services", "Amazon Web Services", "PLATFORM"),
        Skill("MySQL", "MySQL", "DB"),
    ]
    return ruler_pipeline(build_patterns(skills))


def test_extract_normalises_and_counts_postings(ruler, tmp_path: Path) -> None:
    csv = tmp_path / "jobs.csv"
    texts = ["Python on AWS", "python, Amazon Web Services", "MySQL", "Python on AWS", "Cuisine"]
    pd.DataFrame({"Job_title": list("abcde"), "Description": texts}).to_csv(csv, index=False)
    postings = read_postings(csv)
    assert len(postings) == 4  # the repeated posting counts once
    frame = extract_skills(ruler, postings)
    assert frame["PLATFORM"].tolist() == ["Amazon Web Services", "Amazon Web Services", "", ""]
    assert frame["PROG_LANG"].tolist() == ["Python", "Python", "", ""]
    tables = demand(frame)
    assert tables["PLATFORM"].to_dict("records") == [
        {"skill": "Amazon Web Services", "postings": 2, "share": 0.5}
    ]
    assert tables["FRAMEWORKS"].empty


def test_report_writes_one_chart_per_category_and_a_page(ruler, tmp_path: Path) -> None:
    frame = extract_skills(
        ruler, pd.DataFrame({"posting": [0, 1], "title": ["", ""], "text": ["Python, MySQL", "AWS"]})
    )
    frame.to_csv(tmp_path / "skills.csv", index=False)
    page = write_report(read_extracted(tmp_path / "skills.csv"), tmp_path / "report")
    pngs = sorted(p.name for p in (tmp_path / "report").glob("*.png"))
    assert pngs == sorted(f"{label}.png" for label in LABELS)
    assert all((tmp_path / "report" / p).read_bytes()[:4] == b"\x89PNG" for p in pngs)
    html = page.read_text()
    assert "Python" in html and "Amazon Web Services" in html and "50.0%" in html
    assert not list((tmp_path / "report").glob(".skills-report-*"))  # no temp folder left


def test_read_postings_errors(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("title,body\nx,y\n")
    with pytest.raises(ValueError, match="no text column"):
        read_postings(tmp_path / "a.csv")
    (tmp_path / "b.csv").write_text("text\n\n")
    with pytest.raises(ValueError, match="no non-empty text"):
        read_postings(tmp_path / "b.csv")
