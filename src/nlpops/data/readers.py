"""Readers for the tabular formats: sentiment140, airline, dissidentia, generic csv/tsv and parquet."""

from __future__ import annotations

import csv
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from nlpops.data.files import SENTIMENT140_COLUMNS, first_bad_line, open_binary, read_head
from nlpops.errors import DataError, MissingColumnError, ParameterError

SENTIMENT140_LABELS: dict[str, str] = {"0": "negative", "2": "neutral", "4": "positive"}
_TZ_OFFSETS = {"PDT": "-0700", "PST": "-0800", "EDT": "-0400", "EST": "-0500", "CDT": "-0500"}
_TZ_OFFSETS |= {"CST": "-0600", "MDT": "-0600", "MST": "-0700", "UTC": "+0000", "GMT": "+0000"}
_TZ_RE = re.compile(r" (" + "|".join(_TZ_OFFSETS) + r") ")
OPTIONAL_COLUMNS = ("id", "timestamp", "group")
# dissidentIA's label v1 called "non dissident" "avis acceptable"; the final labels are kept as strings
DISSIDENTIA_LABELS: dict[str, str] = {"avis acceptable": "non dissident"}


class ColumnMap(BaseModel):
    """Which source columns hold the text, label, id, timestamp and group (None = not present)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str = "text"
    label: str | None = "label"
    id: str | None = None
    timestamp: str | None = None
    group: str | None = None


def as_column_map(columns: ColumnMap | Mapping[str, str | None] | None) -> ColumnMap:
    """Coerce None, a dict or a :class:`ColumnMap` into a :class:`ColumnMap`.

    Raises:
        ParameterError: a key that is not one of ColumnMap's fields, or a value that is not a name.
    """
    if columns is None:
        return ColumnMap()
    if isinstance(columns, ColumnMap):
        return columns
    try:
        return ColumnMap.model_validate(dict(columns))
    except ValidationError as exc:
        wrong = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ParameterError(f"columns: {wrong} (known: {', '.join(ColumnMap.model_fields)})") from None


def parse_timestamps(values: pd.Series, fmt: str | None = None) -> pd.Series:
    """Parse timestamps; offsets give tz-aware UTC values, unparseable values give NaT.

    Args:
        values (pd.Series): Raw timestamp strings (or datetimes).
        fmt (str | None): A strptime format, or None to let pandas infer it.

    Returns:
        pd.Series: A datetime64 series (``datetime64[ns, UTC]`` when the source has offsets).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parsed = pd.to_datetime(values, errors="coerce", format=fmt)
        except (ValueError, TypeError):
            parsed = pd.to_datetime(values, errors="coerce", format=fmt, utc=True)
        if not pd.api.types.is_datetime64_any_dtype(parsed):  # mixed offsets come back as objects
            parsed = pd.to_datetime(values, errors="coerce", format=fmt, utc=True)
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_convert("UTC")
    return parsed


def parse_twitter_dates(values: pd.Series) -> pd.Series:
    """Parse dates such as ``Mon Apr 06 22:19:45 PDT 2009`` into UTC (NaT when absent)."""
    with_offsets = values.astype("string").str.replace(_TZ_RE, lambda m: f" {_TZ_OFFSETS[m[1]]} ", regex=True)
    return pd.to_datetime(with_offsets, format="%a %b %d %H:%M:%S %z %Y", errors="coerce", utc=True)


def _label_str(value: Any) -> str | None:
    """A label as a string; integral floats lose their ``.0``; missing values give None."""
    if value is None or (not isinstance(value, list | tuple) and pd.isna(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def standardize(
    raw: pd.DataFrame,
    cmap: ColumnMap,
    path: Path,
    label_required: bool = True,
    label_map: Mapping[Any, str] | None = None,
) -> pd.DataFrame:
    """Map source columns onto the standard ``id, text, label, timestamp, group`` frame.

    Args:
        raw (pd.DataFrame): The frame as read.
        cmap (ColumnMap): Source column names.
        path (Path): The file (for error messages).
        label_required (bool): Whether a missing label column is an error (else labels are None).
        label_map (Mapping[Any, str] | None): Raw label → label name; unmapped labels stay as read.

    Returns:
        pd.DataFrame: The standard frame.

    Raises:
        MissingColumnError: If a required column is missing; the message lists the columns found.
    """
    wanted = {"text": cmap.text, "id": cmap.id, "timestamp": cmap.timestamp, "group": cmap.group}
    if label_required or (cmap.label is not None and cmap.label in raw.columns):
        wanted["label"] = cmap.label
    missing = [src for src in wanted.values() if src is not None and src not in raw.columns]
    if missing:
        found = ", ".join(map(str, raw.columns))
        raise MissingColumnError(f"{path}: missing column(s) {', '.join(missing)}; columns found: {found}")
    out = pd.DataFrame(index=pd.RangeIndex(len(raw)))
    if cmap.id is not None:
        out["id"] = [_label_str(v) for v in raw[cmap.id]]
    out["text"] = raw[cmap.text].fillna("").astype(str).to_numpy()
    if "label" in wanted and cmap.label is not None:
        mapping = {str(k): v for k, v in (label_map or {}).items()}
        labels = (_label_str(v) for v in raw[cmap.label])
        out["label"] = pd.Series([None if v is None else mapping.get(v, v) for v in labels], dtype=object)
    else:
        out["label"] = pd.Series([None] * len(raw), dtype=object)
    if cmap.timestamp is not None:
        out["timestamp"] = parse_timestamps(raw[cmap.timestamp]).set_axis(out.index)
    if cmap.group is not None:
        out["group"] = raw[cmap.group].astype(object).where(raw[cmap.group].notna(), None).to_numpy()
    return out


def sniff_separator(path: Path) -> str:
    """The field separator of a delimited file: ``,``, ``;``, tab or ``|``, guessed by ``csv.Sniffer``
    on its first lines (European spreadsheets export ``;``); ``,`` when the header has no other.

    The separator must appear in the header line: a one-column file whose texts hold semicolons
    stays comma-separated.
    """
    head = read_head(path, 65536).decode("utf-8", errors="replace").lstrip("\ufeff")
    lines = [line for line in head.splitlines() if line.strip()][:50]
    if not lines:
        return ","
    complete = lines[:-1] if len(lines) > 1 and not head.endswith("\n") else lines  # the last may be cut
    try:
        sep = csv.Sniffer().sniff("\n".join(complete), delimiters=",;\t|").delimiter
    except csv.Error:
        sep = max(",;\t|", key=lines[0].count)
    return sep if sep in lines[0] else ","


def read_delimited(
    path: Path,
    sep: str = ",",
    encoding: str = "utf-8",
    names: list[str] | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """Read a (possibly compressed) delimited file as strings, with file/line-aware errors.

    Args:
        path (Path): The file.
        sep (str): The field separator.
        encoding (str): The text encoding.
        names (list[str] | None): Column names for a header-less file (None = first row is the header).
        limit (int | None): Read at most this many rows.

    Returns:
        pd.DataFrame: Every column as ``str`` (empty fields are NaN).

    Raises:
        DataError: On undecodable bytes (with the line number), malformed rows or an empty file.
    """
    header: Literal["infer"] | None = None if names else "infer"
    try:
        with open_binary(path) as handle:
            return pd.read_csv(
                handle,
                sep=sep,
                encoding=encoding,
                names=names,
                header=header,
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                nrows=limit,
            )
    except UnicodeDecodeError:
        line, reason = first_bad_line(path, encoding)
        raise DataError(f"{path}: line {line}: bytes that are not valid {encoding} ({reason})") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: empty file") from None
    except pd.errors.ParserError as exc:
        raise DataError(f"{path}: malformed {sep!r}-separated data: {exc}") from None


def read_parquet(path: Path, limit: int | None) -> pd.DataFrame:
    """Read a parquet file; ``spans`` stored as structs come back as ``(start, end, tag)`` tuples."""
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise DataError(f"{path}: cannot read parquet ({exc})") from None
    frame = frame.head(limit) if limit is not None else frame
    if "spans" in frame:
        spans = [
            [(int(s["start"]), int(s["end"]), str(s["label"])) for s in row] if row is not None else []
            for row in frame["spans"]
        ]
        frame["spans"] = pd.Series(spans, index=frame.index, dtype=object)
    return frame.reset_index(drop=True)


def read_sentiment140(path: Path, label_map: Mapping[Any, str] | None, limit: int | None) -> pd.DataFrame:
    """Read the raw header-less latin-1 Sentiment140 file or the project's merged UTF-8 file with a header."""
    first = read_head(path, 4096).split(b"\n", 1)[0].decode("latin-1").lower()
    has_header = all(name in first for name in SENTIMENT140_COLUMNS)
    if has_header:
        raw = read_delimited(path, limit=limit)
    else:
        raw = read_delimited(path, encoding="latin-1", names=list(SENTIMENT140_COLUMNS), limit=limit)
    cmap = ColumnMap(text="text", label="target", id="ids", group="user")
    out = standardize(raw, cmap, path, label_map={**SENTIMENT140_LABELS, **(label_map or {})})
    out["timestamp"] = parse_twitter_dates(raw["date"]).set_axis(out.index)
    return out[["id", "text", "label", "timestamp", "group"]]


def read_airline(path: Path, label_map: Mapping[Any, str] | None, limit: int | None) -> pd.DataFrame:
    """Read Kaggle's Twitter US Airline Sentiment ``Tweets.csv`` (ids kept as 18-digit strings)."""
    raw = read_delimited(path, limit=limit)
    cmap = ColumnMap(text="text", label="airline_sentiment", id="tweet_id", group="airline")
    out = standardize(raw, cmap, path, label_map=label_map)
    if "tweet_created" not in raw:
        found = ", ".join(raw.columns)
        raise MissingColumnError(f"{path}: missing column tweet_created; columns found: {found}")
    stamps = parse_timestamps(raw["tweet_created"], fmt="%Y-%m-%d %H:%M:%S %z")
    out["timestamp"] = stamps.set_axis(out.index)
    return out[["id", "text", "label", "timestamp", "group"]]


def read_dissidentia(path: Path, label_map: Mapping[Any, str] | None, limit: int | None) -> pd.DataFrame:
    """Read dissidentIA's ``labels_v4.csv``: labelled Grand Débat sentences (Q169).

    The final ``label`` stays a string (``dissident``, ``non dissident``, ``inclassable``; drop the
    last with the config's ``drop_labels``); ``group`` is the answer (``question_id``) the sentence
    comes from, so that ``split.group_col: group`` keeps an answer's sentences in one split.
    """
    raw = read_delimited(path, limit=limit)
    cmap = ColumnMap(text="text", label="label", id="id", group="question_id")
    out = standardize(raw, cmap, path, label_map={**DISSIDENTIA_LABELS, **(label_map or {})})
    return out[["id", "text", "label", "group"]]
