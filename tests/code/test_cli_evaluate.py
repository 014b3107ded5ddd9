"""``nlpops evaluate``: overall, per-class and per-slice results, written with the plots by ``--out``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

from nlpops.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from nlpops.models.registry import build_model

    texts = ["i love it", "great flight", "so happy", "i hate it", "awful flight", "so sad"]
    labels = ["positive"] * 3 + ["negative"] * 3
    return build_model("tfidf_nb").fit(texts, labels).save(tmp_path_factory.mktemp("m") / "model")


@pytest.fixture
def labelled(tmp_path: Path, tiny_data: tuple[list[str], list[str]]) -> Path:
    texts, labels = tiny_data
    path = tmp_path / "labelled.csv"
    pd.DataFrame({"body": texts, "sentiment": labels}).to_csv(path, index=False, sep=";")  # a French Excel
    return path


def args(model_dir: Path, data: Path, *more: str) -> list[str]:
    return ["evaluate", "--model", str(model_dir), "--data", str(data), *more]


def test_out_holds_metrics_tables_and_plots(model_dir: Path, labelled: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval"
    cols = ["--text-col", "body", "--label-col", "sentiment"]
    result = runner.invoke(app, args(model_dir, labelled, *cols, "--out", str(out), "--json"))
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "confusion.csv",
        "confusion.md",
        "metrics.json",
        "per_class.csv",
        "per_class.md",
        "plots/calibration.png",
        "plots/confusion_matrix.png",
        "plots/pr.png",
        "plots/roc.png",
        "slices.csv",
        "slices.md",
    ]
    written = json.loads((out / "metrics.json").read_text())
    assert written["accuracy"] == printed["accuracy"] and written["n"] == printed["n"] == 48
    assert "slice_short_accuracy" in written and written["slice_has_url_accuracy"] is None  # NaN: no URL
    per_class = pd.read_csv(out / "per_class.csv", index_col="class")
    assert per_class["support"].to_dict() == {"negative": 24, "positive": 24}
    assert printed["per_class"]["negative"]["support"] == 24
    assert per_class.loc["positive", "f1"] == pytest.approx(printed["per_class"]["positive"]["f1"])
    assert "|        24 |" in (out / "per_class.md").read_text()
    confusion = pd.read_csv(out / "confusion.csv", index_col="true")
    assert int(confusion.to_numpy().sum()) == 48


def test_the_table_has_per_class_and_per_slice_rows(model_dir: Path, labelled: Path) -> None:
    result = runner.invoke(
        app,
        args(model_dir, labelled, "--text-col", "body", "--label-col", "sentiment"),
        env={"COLUMNS": "150"},
    )
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if line.count("│") > 2}
    assert {"accuracy", "n_skipped", "negative", "positive", "short", "has_url"} <= rows.keys()
    assert rows["negative"].rstrip("│ ").endswith("24") and rows["n"].rstrip("│ ").endswith("48")


def test_progress_is_shown_while_it_runs(
    model_dir: Path, labelled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nlpops.cli.evaluate as evaluate_cli

    screen = io.StringIO()
    monkeypatch.setattr(evaluate_cli, "err_console", Console(file=screen, force_terminal=True, width=100))
    cols = ["--text-col", "body", "--label-col", "sentiment"]
    assert runner.invoke(app, args(model_dir, labelled, *cols)).exit_code == 0
    assert "scoring 48 texts" in screen.getvalue()


@pytest.mark.parametrize(
    ("more", "missing"),
    [([], "text, label"), (["--text-col", "body"], "label"), (["--label-col", "nope"], "text, nope")],
)
def test_a_missing_column_names_the_options(
    model_dir: Path, labelled: Path, more: list[str], missing: str
) -> None:
    result = runner.invoke(app, args(model_dir, labelled, *more))
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {labelled}: missing column(s) {missing}; columns found: body, sentiment; "
        "name the columns with --text-col / --label-col\n"
    )
