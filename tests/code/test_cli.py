"""The CLI end to end on a tiny CSV: train → registry → compare → evaluate → predict, and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from nlpops.cli import app

runner = CliRunner()


@pytest.fixture
def tiny_project(tmp_path: Path, tiny_data) -> Path:
    texts, labels = tiny_data
    pd.DataFrame({"text": texts, "label": labels}).to_csv(tmp_path / "tiny.csv", index=False)
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(f"""
name: tiny
registered_model: tiny
data: {{path: "{tmp_path / "tiny.csv"}", format: csv}}
split: {{seed: 1, val_size: 0.2, test_size: 0.2}}
metric: accuracy
models:
  lr: {{kind: tfidf_lr}}
  nb: {{kind: tfidf_nb}}
""")
    return cfg


def test_train_compare_evaluate_predict(mlflow_store: str, tiny_project: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", str(tiny_project), "--set", "models.lr.C=3"])
    assert result.exit_code == 0, result.output
    assert "champion" in result.output and "nlpops serve --model models:/tiny@champion" in result.output

    out = tmp_path / "report"
    result = runner.invoke(app, ["compare", "--experiment", "tiny", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "| lr" in (out / "report.md").read_text() and (out / "report.html").is_file()

    data = tiny_project.parent / "tiny.csv"
    result = runner.invoke(
        app, ["evaluate", "--model", "models:/tiny@champion", "--data", str(data), "--json"]
    )
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout.strip().splitlines()[-1])
    assert scores["n"] == 48 and scores["n_skipped"] == 0 and scores["accuracy"] > 0.9

    result = runner.invoke(app, ["predict", "--model", "models:/tiny@champion", "--json", "i love it"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["label"] == "positive"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["train", "missing.yaml"], "not found"),
        (["train", "{cfg}", "--models", "zzz"], "not in the config"),
        (["train", "{cfg}", "--set", "models.lr.bogus=1"], "bogus"),
        (["compare", "--experiment", "none-such", "--out", "{tmp}/r"], "none-such"),
        (["predict", "--model", "{tmp}/nothing-here", "hi"], "nothing-here"),
    ],
)
def test_errors_are_one_clear_line(
    mlflow_store: str, tiny_project: Path, tmp_path: Path, args: list[str], needle: str
) -> None:
    args = [a.format(cfg=tiny_project, tmp=tmp_path) for a in args]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert needle in result.output and "Traceback" not in result.output
