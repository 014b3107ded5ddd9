"""Read a file of timestamped posts in chunks and score each chunk with a text classifier.

CSV/TSV (compressed or not) and JSONL go through pandas' chunked readers, Parquet through
pyarrow record batches, so a file of any size is read with bounded memory.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nlpops.data.files import open_binary, resolve_path
from nlpops.data.formats import FORMATS, detect_format
from nlpops.data.readers import parse_timestamps, sniff_separator
from nlpops.errors import DataError, MissingColumnError
from nlpops.models.base import TextClassifier

ALL = "all"  # the group name when no --by column is given


@dataclass(frozen=True)
class WatchSpec:
    """Which columns of the input hold the time, the text and the (optional) group."""

    time_col: str
    text_col: str = "text"
    by: str | None = None

    @property
    def columns(self) -> list[str]:
        """The source columns the watch reads."""
        return [self.time_col, self.text_col] + ([self.by] if self.by else [])


def check_columns(path: Path, found: list[str], spec: WatchSpec) -> None:
    """Raise a MissingColumnError naming the file and the first missing column."""
    for col in spec.columns:
        if col not in found:
            names = ", ".join(map(str, found))
            raise MissingColumnError(f"{path}: missing column {col!r}; columns found: {names}")


def _parquet_chunks(path: Path, spec: WatchSpec, chunksize: int) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq

    try:
        handle = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise DataError(f"{path}: cannot read parquet ({exc})") from None
    check_columns(path, handle.schema_arrow.names, spec)
    for batch in handle.iter_batches(batch_size=chunksize, columns=spec.columns):
        yield batch.to_pandas()


def _text_chunks(path: Path, fmt: str, spec: WatchSpec, chunksize: int) -> Iterator[pd.DataFrame]:
    sep = {"jsonl": "", "tsv": "\t"}.get(fmt) or sniff_separator(path)
    with open_binary(path) as handle:
        for number, chunk in enumerate(_named_errors(path, lambda: _reader(handle, fmt, sep, chunksize))):
            if number == 0:
                check_columns(path, list(chunk.columns), spec)
            yield chunk[spec.columns]


def _reader(handle: Any, fmt: str, sep: str, chunksize: int) -> Iterator[pd.DataFrame]:
    """pandas' chunked reader of a JSONL stream, or of a stream of ``sep``-separated values."""
    if fmt == "jsonl":
        return iter(pd.read_json(handle, lines=True, chunksize=chunksize, dtype=False))
    return iter(pd.read_csv(handle, sep=sep, chunksize=chunksize, dtype=str, keep_default_na=False))


def _named_errors(path: Path, make_reader: Callable[[], Iterator[pd.DataFrame]]) -> Iterator[pd.DataFrame]:
    """The chunks of ``make_reader()``; a decoding or parsing error becomes a DataError naming the file."""
    reader: Iterator[pd.DataFrame] | None = None
    while True:
        try:
            reader = reader or make_reader()
            chunk = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError as exc:
            raise DataError(f"{path}: bytes that are not valid utf-8 ({exc})") from None
        except (pd.errors.ParserError, ValueError) as exc:
            raise DataError(f"{path}: cannot parse ({str(exc).splitlines()[0]})") from None
        yield chunk


def read_chunks(path: str | Path, spec: WatchSpec, chunksize: int = 50_000) -> Iterator[pd.DataFrame]:
    """Yield the spec's columns of ``path`` in chunks of at most ``chunksize`` rows.

    Args:
        path: A CSV/TSV (optionally compressed), JSONL or Parquet file.
        spec: The columns to read.
        chunksize: Rows per chunk.

    Raises:
        DataError: If the file is missing or unreadable, or lacks one of the spec's columns.
    """
    resolved = resolve_path(path)
    layout = FORMATS[detect_format(resolved)].layout
    if layout == "parquet":
        yield from _parquet_chunks(resolved, spec, chunksize)
    else:
        yield from _text_chunks(resolved, layout, spec, chunksize)


def to_utc(values: pd.Series) -> pd.Series:
    """Timestamps as ``datetime64[ns, UTC]``: offsets are converted, naive times are taken as UTC."""
    parsed = parse_timestamps(values)
    if not isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_localize("UTC")
    return parsed.astype("datetime64[ns, UTC]")


@dataclass
class Untimed:
    """Posts left out because their time does not parse: how many, of how many read, one raw value."""

    count: int = 0
    total: int = 0
    example: str | None = None

    def add(self, other: Untimed) -> None:
        """Count another chunk's posts in."""
        self.count += other.count
        self.total += other.total
        self.example = self.example if self.example is not None else other.example

    def check(self, path: str | Path, time_col: str) -> None:
        """Fail when posts were read but none has a time: the column is not the post times.

        Raises:
            DataError: naming the column, the count and a value that does not parse.
        """
        if self.total and self.count == self.total:
            raise DataError(
                f"{path}: none of the {self.total:,} values of column {time_col!r} is a time "
                f"(e.g. {self.example!r}); give --time-col the column of the post times"
            )

    def warning(self, time_col: str) -> str | None:
        """What to tell the user when some posts (not all) were left out."""
        if not self.count:
            return None
        return (
            f"{self.count:,} of {self.total:,} posts left out: their {time_col!r} is not a time "
            f"(e.g. {self.example!r})"
        )


@dataclass
class ScoredChunk:
    """The scored posts of one chunk, and those left out for want of a time."""

    posts: pd.DataFrame
    untimed: Untimed = field(default_factory=Untimed)


def score_frame(model: TextClassifier, frame: pd.DataFrame, spec: WatchSpec, negative: str) -> ScoredChunk:
    """Score one chunk: ``time`` (UTC), ``group``, ``text``, ``label`` and ``p_negative`` per post.

    Rows whose time does not parse are left out (they cannot be placed in a window) and counted.
    """
    times = to_utc(frame[spec.time_col])
    timed = times.notna().to_numpy()
    bad = frame[spec.time_col][~timed]
    untimed = Untimed(len(bad), len(frame), None if bad.empty else str(bad.iloc[0]))
    frame = frame[timed]
    texts = frame[spec.text_col].fillna("").astype(str).tolist()
    proba = np.asarray(model.predict_proba(texts)) if texts else np.empty((0, len(model.classes_)))
    classes = [str(c) for c in model.classes_]
    posts = pd.DataFrame(
        {
            "time": times[timed].to_numpy(),
            "group": frame[spec.by].fillna("").astype(str).to_numpy() if spec.by else ALL,
            "text": texts,
            "label": np.asarray(classes, dtype=object)[proba.argmax(axis=1)],
            "p_negative": proba[:, classes.index(negative)],
        }
    )
    return ScoredChunk(posts, untimed)


_WORKER_MODEL: TextClassifier | None = None  # set in the parent before forking the scoring workers


def _score_in_worker(chunk: pd.DataFrame, spec: WatchSpec, negative: str) -> ScoredChunk:
    assert _WORKER_MODEL is not None
    return score_frame(_WORKER_MODEL, chunk, spec, negative)


def score_chunks(
    model: TextClassifier,
    path: str | Path,
    spec: WatchSpec,
    negative: str,
    chunksize: int = 50_000,
    jobs: int = 1,
) -> Iterator[ScoredChunk]:
    """Yield the scored chunks of ``path`` in file order (see :func:`score_frame`).

    With ``jobs > 1`` the chunks are scored by forked worker processes that share the loaded
    model (no pickling of it); at most ``2 * jobs`` chunks are in flight, so memory stays bounded.
    """
    if jobs <= 1:
        for chunk in read_chunks(path, spec, chunksize):
            yield score_frame(model, chunk, spec, negative)
        return
    global _WORKER_MODEL
    _WORKER_MODEL = model
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(jobs, mp_context=context) as pool:
        pending: deque[Future[ScoredChunk]] = deque()
        for chunk in read_chunks(path, spec, chunksize):
            pending.append(pool.submit(_score_in_worker, chunk, spec, negative))
            if len(pending) >= 2 * jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
