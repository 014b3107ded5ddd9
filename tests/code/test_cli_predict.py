"""``nlpops predict``: texts inline, from a file (lines or a table's column) or stdin; empty texts refused."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from nlpops.cli import app

runner = CliRunner()
TEXTS = ["i love it", "awful flight", "so happy"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from nlpops.models.registry import build_model

    texts = ["i love it", "great flight", "so happy", "i hate it", "awful flight", "so sad"]
    labels = ["positive"] * 3 + ["negative"] * 3
    return build_model("tfidf_nb").fit(texts, labels).save(tmp_path_factory.mktemp("m") / "model")


def predicted(model_dir: Path, *args: str, stdin: str | None = None) -> list[dict]:
    result = runner.invoke(app, ["predict", "--model", str(model_dir), "--json", *args], input=stdin)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_inline_texts(model_dir: Path) -> None:
    rows = predicted(model_dir, *TEXTS)
    assert [r["text"] for r in rows] == TEXTS
    assert [r["label"] for r in rows] == ["positive", "negative", "positive"]
    assert all(abs(r["proba_negative"] + r["proba_positive"] - 1) < 1e-9 for r in rows)


@pytest.mark.parametrize("name", ["texts.txt", "texts.txt.gz", "texts"])
def test_a_file_holds_one_text_per_line(model_dir: Path, tmp_path: Path, name: str) -> None:
    content = "\n".join(TEXTS).encode() + b"\n"
    (tmp_path / name).write_bytes(gzip.compress(content) if name.endswith(".gz") else content)
    assert [r["text"] for r in predicted(model_dir, "--file", str(tmp_path / name))] == TEXTS


@pytest.mark.parametrize("args", [["-"], ["--file", "-"]])
def test_stdin_holds_one_text_per_line(model_dir: Path, args: list[str]) -> None:
    assert [r["text"] for r in predicted(model_dir, *args, stdin="\n".join(TEXTS))] == TEXTS


def test_blank_lines_at_the_end_are_no_texts(model_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "texts.txt").write_text("\n".join(TEXTS) + "\n\n  \n")  # as an editor may leave it
    assert [r["text"] for r in predicted(model_dir, "--file", str(tmp_path / "texts.txt"))] == TEXTS


def test_a_table_gives_its_text_column(model_dir: Path, tmp_path: Path) -> None:
    frame = pd.DataFrame({"id": [1, 2, 3], "body": TEXTS})
    frame.to_csv(tmp_path / "posts.csv", index=False)
    assert [
        r["text"] for r in predicted(model_dir, "--file", str(tmp_path / "posts.csv"), "--text-col", "body")
    ] == TEXTS
    frame.rename(columns={"body": "text"}).to_json(tmp_path / "posts.jsonl", orient="records", lines=True)
    assert [r["text"] for r in predicted(model_dir, "--file", str(tmp_path / "posts.jsonl"))] == TEXTS


def test_a_table_without_the_text_column_names_the_option(model_dir: Path, tmp_path: Path) -> None:
    pd.DataFrame({"body": TEXTS}).to_csv(tmp_path / "posts.csv", index=False)
    result = runner.invoke(app, ["predict", "--model", str(model_dir), "--file", str(tmp_path / "posts.csv")])
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {tmp_path / 'posts.csv'}: missing column(s) text; columns found: body; "
        "name the column with --text-col\n"
    )


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["i love it", ""], None, "empty text (text 2): every text needs some words"),
        (["  "], None, "empty text (text 1): every text needs some words"),
        (
            ["-"],
            "a\n\n \nb\n \n\n\nc\n\n\n",  # blank lines at the end are dropped, not refused
            "empty text (line 2 of stdin; line 3 of stdin; line 5 of stdin and 2 more)",
        ),
        (["-"], "", "stdin: no texts in it"),
        (["-"], "\n \n", "stdin: no texts in it"),
        ([], None, "no texts to classify: give some, --file PATH, or - to read stdin (one per line)"),
        (["a", "-"], None, "- reads the texts from stdin: give it alone"),
        (["a", "--file", "x.txt"], None, "give texts or --file, not both"),
        (["a", "--text-col", "body"], None, "--text-col names a column of --file; give --file too"),
    ],
)
def test_empty_or_missing_texts_are_refused_by_position(
    model_dir: Path, args: list[str], stdin: str | None, message: str
) -> None:
    result = runner.invoke(app, ["predict", "--model", str(model_dir), *args], input=stdin)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith(f"error: {message}") and len(result.stderr.splitlines()) == 1


def test_an_empty_row_of_a_table_is_named(model_dir: Path, tmp_path: Path) -> None:
    pd.DataFrame({"text": ["i love it", None, "so happy"]}).to_csv(tmp_path / "p.csv", index=False)
    result = runner.invoke(app, ["predict", "--model", str(model_dir), "--file", str(tmp_path / "p.csv")])
    assert result.exit_code == 1
    assert (
        result.stderr == f"error: empty text (row 2 of {tmp_path / 'p.csv'}): every text needs some words\n"
    )


def test_a_text_that_names_a_file_is_classified_with_a_warning(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("two.txt").write_text("i love it\n")
    result = runner.invoke(app, ["predict", "--model", str(model_dir), "--json", "two.txt"])
    assert result.exit_code == 0 and json.loads(result.stdout)["text"] == "two.txt"
    assert result.stderr == "warning: classifying the text 'two.txt'; to read the file, give --file two.txt\n"


def test_texts_are_printed_as_typed(model_dir: Path) -> None:
    result = runner.invoke(app, ["predict", "--model", str(model_dir), "[bold]i love it[/]"])
    assert result.exit_code == 0 and result.stdout.rstrip().endswith("[bold]i love it[/]")
