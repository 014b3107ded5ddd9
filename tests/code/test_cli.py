"""The CLI end to end on a tiny CSV: train → registry → compare → evaluate → predict, and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from nlpops import __version__
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
    args = ["train", str(tiny_project), "--set", "models.lr.C=3", "--recipes", "minimal,stem"]
    result = runner.invoke(app, args, env={"COLUMNS": "80"})  # a plain terminal: nothing cut
    assert result.exit_code == 0, result.output
    assert "champion" in result.output and "nlpops serve --model models:/tiny@champion" in result.output
    for run in ("lr[minimal]", "lr[stem]", "nb[minimal]", "nb[stem]"):  # each run logged with its recipe
        assert f"training {run}" in result.output and f"done {run}: test accuracy=" in result.output
    rows = [line.split() for line in result.output.splitlines() if line.split()[:1] in (["lr"], ["nb"])]
    assert len(rows) == 4 and all(len(cells) == 8 for cells in rows)  # no fastText: no ratio column, no nan
    assert "fastText" not in result.output and "…" not in result.output
    best = next(line for line in result.output.splitlines() if line.startswith("best: "))
    val = max(float(cells[2]) for cells in rows)
    assert f" with val accuracy {val:.4f} (test " in best, best

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


def _command_paths(group: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command of the CLI, as the words that call it (``("skills", "train")``)."""
    paths = [prefix]
    for name, command in getattr(group, "commands", {}).items():
        paths += _command_paths(command, (*prefix, name))
    return paths


COMMAND_PATHS = _command_paths(typer.main.get_command(app))


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=[" ".join(p) or "nlpops" for p in COMMAND_PATHS])
def test_help_shows_no_python_types_nor_raw_markup(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for raw in ("<bool>", "<list[", "``", "[bold]", "[/"):
        assert raw not in result.output, f"{' '.join(path)} --help shows {raw!r}:\n{result.output}"


@pytest.mark.parametrize(
    "path", [(), ("train",), ("evaluate",), ("predict",), ("serve",), ("watch",), ("skills", "build-ruler")]
)
def test_main_commands_show_examples(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    examples = result.output.split("Examples", 1)[-1]
    assert "Examples" in result.output and f"nlpops {' '.join(path)}".strip() in examples


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output == f"nlpops {__version__}\n"


def test_debug_shows_the_traceback_instead_of_one_line(tmp_path: Path) -> None:
    from nlpops.tracking import ModelNotFoundError

    args = ["predict", "--model", str(tmp_path / "nothing-here"), "hi"]
    plain = runner.invoke(app, args)
    assert plain.exit_code == 1 and isinstance(plain.exception, SystemExit)
    assert plain.stderr.startswith("error: ") and len(plain.stderr.splitlines()) == 1
    for debug_args in (["--debug", *args], [*args, "--debug"]):  # at the end too, where people add it
        debug = runner.invoke(app, debug_args)
        assert isinstance(debug.exception, ModelNotFoundError) and "nothing-here" in str(debug.exception)
    assert runner.invoke(app, args).stderr == plain.stderr  # --debug does not stick to the next run
    after_dashes = runner.invoke(app, ["predict", "--model", str(tmp_path / "nothing-here"), "--", "--debug"])
    assert after_dashes.stderr == plain.stderr  # after --, "--debug" is a text


def test_an_unexpected_error_shows_its_traceback_and_says_it_is_a_bug(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import nlpops.tracking

    def broken(uri: str, cache_dir: Path | None = None) -> None:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(nlpops.tracking, "load_estimator", broken)
    result = runner.invoke(app, ["predict", "--model", "models:/x@champion", "hi"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Traceback (most recent call last):\n")
    assert "RuntimeError: boom\nsecond line\n" in result.stderr  # the whole message, under its traceback
    assert result.stderr.endswith("error: unexpected RuntimeError: boom (a bug: the traceback is above)\n")


def test_a_bug_inside_fit_is_no_user_error(
    mlflow_store: str, tiny_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``KeyError`` from a bug is not an unknown key the user typed: no bare ``error: 'text'``."""
    from nlpops.models.base import TextClassifier

    def fit(self: TextClassifier, texts: object, labels: object) -> TextClassifier:
        return {}["text"]  # a bug in the model code

    monkeypatch.setattr(TextClassifier, "fit", fit)
    result = runner.invoke(app, ["train", str(tiny_project), "--models", "lr"])
    assert result.exit_code == 1
    assert "Traceback (most recent call last):" in result.stderr and 'return {}["text"]' in result.stderr
    assert (
        result.stderr.splitlines()[-1] == "error: unexpected KeyError: 'text' (a bug: the traceback is above)"
    )


@pytest.mark.parametrize(
    ("error", "message"),
    [
        ("ConfigError", "configs/x.yaml: models.lr.C: Input should be a valid number"),
        ("UnknownNameError", "unknown model kind 'zzz'; known kinds: tfidf_lr"),
        ("ParameterError", "model kind 'tfidf_lr' has no parameter(s) ['bogus']"),
        ("DataError", "posts.csv: line 3: bytes that are not valid utf-8"),
    ],
)
def test_a_user_error_raised_anywhere_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tiny_project: Path, error: str, message: str
) -> None:
    import nlpops.errors
    import nlpops.train

    def failing(*args: object, **kwargs: object) -> None:
        raise getattr(nlpops.errors, error)(message)

    monkeypatch.setattr(nlpops.train, "run_training", failing)
    result = runner.invoke(app, ["train", str(tiny_project)])
    assert result.exit_code == 1 and result.stderr == f"error: {message}\n"  # a KeyError is not quoted
