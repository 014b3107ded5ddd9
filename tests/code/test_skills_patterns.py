"""Ruler patterns: cleaning list names, aliases, and ambiguous names that need context."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlpops.skills.patterns import build_ruler_patterns, clean_name, read_aliases, read_skill_list


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Amazon Web Services (42 P)", "Amazon Web Services"),
        ("Microsoft cloud services (1 C, 25 P)", None),
        ("Cloud databases (11 P)", None),
        ("PostgreSQL (free software)", "PostgreSQL"),
        ("C – ISO/IEC 9899", "C"),
        ("[22][23] Couchbase", "Couchbase"),
        ("Oracle RDF Graph; part of Oracle Database", "Oracle RDF Graph"),
    ],
)
def test_clean_name(raw: str, clean: str | None) -> None:
    assert clean_name(raw) == clean


@pytest.fixture(scope="module")
def ruler(tmp_path_factory: pytest.TempPathFactory):
    from nlpops.skills.ner import ruler_pipeline

    folder = tmp_path_factory.mktemp("lists")
    (folder / "languages.csv").write_text("name\nPython\nR\nGo\nLean\nML\nJulia\nJavaScript\n")
    (folder / "databases.csv").write_text("name\nPostgreSQL (free software)\n")
    (folder / "platforms.csv").write_text("name\nAmazon Web Services (42 P)\nCloud databases (11 P)\n")
    aliases = folder / "aliases.tsv"
    aliases.write_text("alias\tcanonical\tlabel\nAWS\tAmazon Web Services\tPLATFORM\n")
    lists = [folder / n for n in ("languages.csv", "databases.csv", "platforms.csv")]
    return ruler_pipeline(build_ruler_patterns(lists, aliases))


def found(nlp, text: str) -> list[tuple[str, str]]:
    return [(e.text, e.label_) for e in nlp(text).ents]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "We use python and postgresql on amazon web services.",
            [("python", "PROG_LANG"), ("postgresql", "DB"), ("amazon web services", "PLATFORM")],
        ),
        ("Deployed on AWS.", [("AWS", "PLATFORM")]),
        ("Skills: Python, R, Go.", [("Python", "PROG_LANG"), ("R", "PROG_LANG"), ("Go", "PROG_LANG")]),
        ("Programming language: Julia.", [("Julia", "PROG_LANG")]),
        ("Langages de programmation : R et Julia", [("R", "PROG_LANG"), ("Julia", "PROG_LANG")]),
        ("Knowledge of JavascriptInfrastructure", [("Javascript", "PROG_LANG")]),
    ],
)
def test_ruler_matches(ruler, text: str, expected: list) -> None:
    assert found(ruler, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Exposure to Agile, Lean and Continuous Delivery approaches.",
        "Deliver machine learning (ML) solutions to the business.",
        "Julia is our office manager.",
        "Go to market with a world class MVP.",
        "Des cloud databases partout.",
        "Nous allons de l'avant, go go go.",
    ],
)
def test_ambiguous_names_need_context(ruler, text: str) -> None:
    assert found(ruler, text) == []


def test_ambiguous_name_kept_next_to_a_skill_dropped_next_to_a_word(ruler) -> None:
    assert found(ruler, "Python, ML") == [("Python", "PROG_LANG"), ("ML", "PROG_LANG")]
    assert found(ruler, "Agile, ML") == []


def test_pattern_ids_are_normalised_names(ruler) -> None:
    doc = ruler("Deployed on AWS and Amazon Web Services.")
    assert [e.ent_id_ for e in doc.ents] == ["Amazon Web Services", "Amazon Web Services"]


def test_bad_list_and_alias_files(tmp_path: Path) -> None:
    (tmp_path / "languages.csv").write_text("title\nPython\n")
    with pytest.raises(ValueError, match="'name' column"):
        read_skill_list(tmp_path / "languages.csv")
    (tmp_path / "misc.csv").write_text("name\nPython\n")
    with pytest.raises(ValueError, match="cannot tell the label"):
        read_skill_list(tmp_path / "misc.csv")
    (tmp_path / "a.tsv").write_text("AWS\tAmazon\tCLOUD\n")
    with pytest.raises(ValueError, match="line 1"):
        read_aliases(tmp_path / "a.tsv")


def test_context_rule_runs_last_and_filters_any_entity() -> None:
    from spacy.tokens import Span

    from nlpops.skills.ner import build_pipeline

    nlp = build_pipeline("blank_en", [], ruler="before")
    assert nlp.pipe_names == ["entity_ruler", "ner", "skills_context"]
    context = nlp.get_pipe("skills_context")
    doc = nlp.make_doc("Lean management is our culture in this team. We use R with Python")
    doc.ents = [Span(doc, 0, 1, "PROG_LANG"), Span(doc, 11, 12, "PROG_LANG"), Span(doc, 13, 14, "PROG_LANG")]
    assert [e.text for e in context(doc).ents] == ["R", "Python"]  # "R": the cue word "python" is near


def test_saved_pipeline_keeps_the_rules_and_the_tokenizer(ruler, tmp_path: Path) -> None:
    from nlpops.skills.model import load_skills_model

    ruler.to_disk(tmp_path / "pipe")
    loaded = load_skills_model(str(tmp_path))  # the pipeline is found under the folder
    assert found(loaded, "Tools: PythonDemonstrated") == [("Python", "PROG_LANG")]
    text = "Exposure to Agile, Lean and ML. Langages : R, Go"
    assert found(loaded, text) == found(ruler, text) == [("R", "PROG_LANG"), ("Go", "PROG_LANG")]
