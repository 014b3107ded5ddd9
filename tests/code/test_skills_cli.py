"""``nlpops skills``: train on tiny data → registry → evaluate/extract/report with models:/skills@champion;
bad input files give exit 1 and one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from skills_support import tiny_records, write_jsonl
from typer.testing import CliRunner

from nlpops.cli import app

runner = CliRunner()


@pytest.fixture
def tiny_config(tmp_path: Path) -> Path:
    records = tiny_records()
    write_jsonl(tmp_path / "ann.jsonl", records + records[:2])  # duplicated postings, as in the scrape
    (tmp_path / "languages.csv").write_text("name\nPython\nJava\nScala\nKotlin\nRuby\nJavaScript\n")
    (tmp_path / "databases.csv").write_text("name\nMySQL\nMongoDB\n")
    cfg = tmp_path / "skills.yaml"
    cfg.write_text(f"""
name: skills-test
registered_model: skills
data:
  annotations: "{tmp_path / "ann.jsonl"}"
  preannotated: null
  skill_lists: ["{tmp_path / "languages.csv"}", "{tmp_path / "databases.csv"}"]
split: {{seed: 1, test_size: 0.34}}
cv: {{folds: 3, seed: 1}}
training: {{base: blank_en, ruler: before, max_epochs: 3}}
""")
    return cfg


def train_and_evaluate(config: Path, ann: Path, *options: str) -> dict:
    """``skills train`` (a first version becomes champion), then ``skills evaluate --json`` on ``ann``."""
    result = runner.invoke(app, ["skills", "train", str(config), *options])
    assert result.exit_code == 0, result.output
    assert "registered skills v1; champion: moved" in result.output
    assert "3-fold cross-validation by distinct text" in result.output
    assert "served mode:" in result.output and "chosen by cross-validation" in result.output
    assert "names learned from all 6 gold texts" in " ".join(result.output.split())
    result = runner.invoke(
        app, ["skills", "evaluate", "--model", "models:/skills@champion", "--data", str(ann), "--json"]
    )
    assert result.exit_code == 0, result.output
    scores: dict = json.loads(result.stdout.strip().splitlines()[-1])
    assert scores["n"] == 6 and set(scores["modes"]) == {"ruler", "ner", "both", "ner_first"}
    return scores


@pytest.mark.slow
def test_train_then_use_the_champion(mlflow_store: str, tiny_config: Path, tmp_path: Path) -> None:
    ann = tmp_path / "ann.jsonl"
    scores = train_and_evaluate(tiny_config, ann)
    assert set(scores["per_label"]) == {"PROG_LANG", "DB", "PLATFORM", "FRAMEWORKS"}
    assert scores["modes"]["ruler"]["per_label"]["DB"]["precision"] == 1.0  # MySQL, MongoDB from the list
    # every name is in one posting only: the served ruler knows them all because, after its held-out
    # scores, it relearned its names from all 6 gold texts (training.lexicon_refit)
    assert scores["modes"]["ruler"]["micro_recall"] == 1.0
    out = tmp_path / "skills.csv"
    result = runner.invoke(
        app, ["skills", "extract", str(ann), "--model", "models:/skills@champion", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "MySQL" in out.read_text()
    result = runner.invoke(app, ["skills", "report", str(out), "--out", str(tmp_path / "rep")])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "rep").glob("*.png"))) == 4


@pytest.mark.slow
def test_train_the_transformer_tagger_and_use_the_champion(
    mlflow_store: str, tiny_config: Path, tmp_path: Path
) -> None:
    from hf_support import tiny_checkpoint

    tagger = {"model": "transformer", "transformer.checkpoint": tiny_checkpoint(tmp_path), "random_state": 1}
    tagger |= {"transformer.max_epochs": 40, "transformer.learning_rate": 0.003, "transformer.max_length": 32}
    tagger |= {"transformer.stride": 8}
    sets = [arg for k, v in tagger.items() for arg in ("--set", f"training.{k}={v}")]
    scores = train_and_evaluate(tiny_config, tmp_path / "ann.jsonl", *sets)
    # the tagger loaded back from the registry finds the spans of the 4 texts it learnt (untrained: ~0)
    assert scores["modes"]["ner"]["micro_f1"] >= 0.4


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["import-doccano", "{tmp}/missing.jsonl", "--out", "{tmp}/o.spacy"], "no such file"),
        (["import-doccano", "{tmp}/empty.jsonl", "--out", "{tmp}/o.spacy"], "no annotated texts"),
        (["import-doccano", "{tmp}/wrong.jsonl", "--out", "{tmp}/o.spacy"], "line 1: malformed JSON"),
        (["build-ruler", "{tmp}/wrong.jsonl", "--out", "{tmp}/p.jsonl"], "cannot tell the label"),
        (["evaluate", "--model", "{tmp}/nowhere", "--data", "{tmp}/empty.jsonl"], "no annotated texts"),
        (["evaluate", "--model", "{tmp}/nowhere", "--data", "{tmp}/ok.jsonl"], "no such model folder"),
        (
            ["extract", "{tmp}/wrong.jsonl", "--model", "{tmp}", "--out", "{tmp}/s.csv"],
            "line 1: malformed JSON",
        ),
        (["report", "{tmp}/missing.csv", "--out", "{tmp}/r"], "no such file"),
        (["train", "{tmp}/missing.yaml"], "config file not found"),
        (["evaluate"], "give --model (with --data) or --cv CONFIG"),
        (["evaluate", "--model", "{tmp}/nowhere"], "--model needs --data"),
        (["evaluate", "--cv", "{tmp}/missing.yaml"], "config file not found"),
    ],
)
def test_bad_inputs_exit_1_with_one_line(tmp_path: Path, args: list[str], needle: str) -> None:
    (tmp_path / "empty.jsonl").write_text("")
    (tmp_path / "wrong.jsonl").write_text("name,value\na,1\n")
    write_jsonl(tmp_path / "ok.jsonl", tiny_records()[:1])
    result = runner.invoke(app, ["skills", *[a.format(tmp=tmp_path) for a in args]])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0], result.output
    assert not (tmp_path / "o.spacy").exists() and not (tmp_path / "s.csv").exists()


def test_a_missing_skill_list_names_it_and_the_lists_of_the_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nlpops.data import data_dir

    monkeypatch.chdir(tmp_path)  # the README's data/ner_jobs_skills_*.csv.gz: no data/ folder here
    result = runner.invoke(
        app, ["skills", "build-ruler", "data/ner_jobs_skills_*.csv.gz", "--out", "p.jsonl"]
    )
    assert result.exit_code == 1 and not (tmp_path / "p.jsonl").exists()
    lists = "ner_jobs_skills_databases.csv.gz, ner_jobs_skills_frameworks_tools_etc.csv.gz, "
    lists += "ner_jobs_skills_languages.csv.gz, ner_jobs_skills_platforms.csv.gz"
    assert result.stderr == (
        "error: data/ner_jobs_skills_*.csv.gz: no such file (a shell pattern that matched no file); "
        f"the skill lists are in the data folder {data_dir()}: {lists} "
        f"(e.g. {data_dir() / 'ner_jobs_skills_*.csv.gz'})\n"
    )


def test_a_skill_list_name_is_also_looked_up_in_the_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(
        app, ["skills", "build-ruler", "ner_jobs_skills_databases.csv.gz", "--out", "p.jsonl"]
    )
    assert result.exit_code == 0, result.output
    patterns = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert {p["id"] for p in patterns if p["label"] == "DB"} >= {"PostgreSQL", "MongoDB"}


def test_evaluate_cv_prints_every_row_as_mean_and_sd(tiny_config: Path) -> None:
    result = runner.invoke(app, ["skills", "evaluate", "--cv", str(tiny_config), "--json"])
    assert result.exit_code == 0, result.output
    cv = json.loads(result.stdout.strip().splitlines()[-1])["cv"]
    rows = {"ruler", "spacy:ner", "spacy:both", "spacy:ner_first"}
    rows |= {"ruler+guidelines", "spacy:both+guidelines", "spacy:ner_first+guidelines"}
    assert cv["folds"] == 3 and set(cv["rows"]) == rows
    assert cv["best"] in cv["rows"]
    mean, sd = cv["rows"]["ruler"]["f1"]
    assert 0 <= mean <= 1 and sd >= 0
    assert set(cv["rows"]["ruler"]["per_label"]) == {"PROG_LANG", "DB", "PLATFORM", "FRAMEWORKS"}
    table = runner.invoke(app, ["skills", "evaluate", "--cv", str(tiny_config)])
    assert table.exit_code == 0 and "3-fold cross-validation" in table.output and "best:" in table.output
