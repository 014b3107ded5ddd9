"""``nlpops predict``: labels and class probabilities of texts given inline, in a file, or on stdin."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from nlpops.cli.common import (
    ModelOpt,
    clean_errors,
    column_hint,
    console,
    examples,
    print_warning,
    quiet_libraries,
)
from nlpops.errors import DataError, UsageError

STDIN = "-"
TABLE_SUFFIXES = {".csv", ".tsv", ".tab", ".jsonl", ".ndjson", ".json", ".parquet", ".pq"}
EXAMPLES = examples(
    'nlpops predict --model models:/demo@champion "great flight" "lost my bag again"',
    "nlpops predict --model models:/demo@champion --file texts.txt --json",
    "nlpops predict --model models:/demo@champion --file posts.csv --text-col body",
    "cat texts.txt | nlpops predict --model models:/demo@champion -",
)


def _lines(raw: bytes, source: str) -> list[tuple[str, str]]:
    """One text per line, each with its position (``line 3 of texts.txt``).

    Blank lines at the end (an editor's, or ``echo``'s) are no texts: they are dropped; a blank
    line between texts is still refused by position.
    """
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(f"{source}: line {line}: bytes that are not valid utf-8") from None
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    return [(f"line {n} of {source}", line) for n, line in enumerate(lines, start=1)]


def _is_table(path: Path, text_col: str | None) -> bool:
    """A table (CSV, JSONL, Parquet…) when its name says so or a column is named; else lines of text."""
    from nlpops.data.files import COMPRESSED_SUFFIXES

    suffixes = [s.lower() for s in path.suffixes if s.lower() not in COMPRESSED_SUFFIXES]
    return text_col is not None or bool(suffixes and suffixes[-1] in TABLE_SUFFIXES)


def _from_file(path: Path, text_col: str | None) -> list[tuple[str, str]]:
    """The texts of ``--file``: a table's text column, or one text per line."""
    from nlpops.data import load_dataset, resolve_path
    from nlpops.data.files import open_binary

    resolved = resolve_path(path)
    if _is_table(resolved, text_col):
        with column_hint("--text-col"):
            frame = load_dataset(resolved, columns={"text": text_col} if text_col else None)
        return [(f"row {n} of {path}", text) for n, text in enumerate(frame["text"].tolist(), start=1)]
    with open_binary(resolved) as handle:
        return _lines(handle.read(), str(path))


def _names_a_file(text: str) -> bool:
    """Whether a text given inline is also the name of a file (then ``--file`` was likely meant)."""
    try:
        return text != STDIN and Path(text).is_file()
    except OSError:  # too long for a file name: a real text
        return False


def read_texts(texts: list[str], file: Path | None, text_col: str | None) -> list[tuple[str, str]]:
    """The texts to classify, each with its position for error messages.

    Raises:
        UsageError: no texts, texts and ``--file`` both, or an empty text (its positions named).
    """
    if texts and file is not None:
        raise UsageError("give texts or --file, not both")
    if text_col is not None and file is None:
        raise UsageError("--text-col names a column of --file; give --file too")
    if texts == [STDIN] or str(file) == STDIN:
        source, found = "stdin", _lines(sys.stdin.buffer.read(), "stdin")
    elif file is not None:
        source, found = str(file), _from_file(file, text_col)
    elif STDIN in texts:
        raise UsageError("- reads the texts from stdin: give it alone")
    else:
        source, found = "", [(f"text {n}", text) for n, text in enumerate(texts, start=1)]
    if not found:
        raise UsageError(
            f"{source}: no texts in it"
            if source
            else "no texts to classify: give some, --file PATH, or - to read stdin (one per line)"
        )
    empty = [where for where, text in found if not text.strip()]
    if empty:
        shown = "; ".join(empty[:3]) + (f" and {len(empty) - 3} more" if len(empty) > 3 else "")
        raise UsageError(f"empty text ({shown}): every text needs some words")
    return found


def predict(
    model: ModelOpt,
    texts: Annotated[
        list[str] | None,
        typer.Argument(metavar="TEXT", help="Texts to classify; - reads them from stdin, one per line."),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="Texts from a file: one per line (- for stdin), or the text column of a CSV, TSV, "
            "JSONL or Parquet file (see --text-col).",
        ),
    ] = None,
    text_col: Annotated[
        str | None, typer.Option(help="Text column of a --file table (default: text).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """Predict the label and class probabilities of each text."""
    from nlpops.tracking import load_estimator, predictions_frame

    quiet_libraries()
    with clean_errors():
        found = read_texts(texts or [], file, text_col)
        for _, text in found if file is None else []:
            if _names_a_file(text):
                print_warning(f"classifying the text {text!r}; to read the file, give --file {text}")
        loaded = load_estimator(model)
        frame = predictions_frame(loaded.model, [text for _, text in found])
    rows: list[dict[str, Any]] = frame.to_dict("records")  # type: ignore[assignment]
    for (_, text), row in zip(found, rows, strict=True):
        if as_json:
            typer.echo(json.dumps({"text": text} | row))
        else:
            probs = ", ".join(f"{k[6:]}={v:.3f}" for k, v in row.items() if k.startswith("proba_"))
            console.print(
                f"[bold]{escape(str(row['label']))}[/] ({escape(probs)})  {escape(text)}", highlight=False
            )
