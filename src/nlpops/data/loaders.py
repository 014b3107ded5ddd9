"""``load_dataset``: one entry point that reads every supported format into the standard frame."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from nlpops.data.files import FORMATS, detect_format, resolve_path
from nlpops.data.jsonl import read_doccano, read_jsonl
from nlpops.data.readers import (
    OPTIONAL_COLUMNS,
    ColumnMap,
    as_column_map,
    read_airline,
    read_delimited,
    read_dissidentia,
    read_sentiment140,
    sniff_separator,
    standardize,
)
from nlpops.errors import DataError


def _read_parquet(path: Path, limit: int | None) -> pd.DataFrame:
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


def _read_generic(
    path: Path,
    fmt: str,
    cmap: ColumnMap,
    label_required: bool,
    label_map: Mapping[Any, str] | None,
    limit: int | None,
) -> pd.DataFrame:
    """Read csv/tsv/jsonl/parquet and map its columns onto the standard frame."""
    if fmt in {"csv", "tsv"}:
        raw = read_delimited(path, sep="\t" if fmt == "tsv" else sniff_separator(path), limit=limit)
    elif fmt == "jsonl":
        raw = read_jsonl(path, limit)
    else:
        raw = _read_parquet(path, limit)
    # our own files (e.g. split parquets) carry the standard names: pick them up unless mapped explicitly
    implicit = {name: name for name in OPTIONAL_COLUMNS if name in raw and name not in cmap.model_fields_set}
    cmap = cmap.model_copy(update=implicit)
    out = standardize(raw, cmap, path, label_required=label_required, label_map=label_map)
    if "spans" in raw and "spans" not in cmap.model_dump().values():
        out["spans"] = raw["spans"].to_numpy()
    return out


def load_dataset(
    path: str | Path,
    fmt: str | None = None,
    columns: ColumnMap | Mapping[str, str | None] | None = None,
    label_map: Mapping[Any, str] | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """Read a dataset into the standard frame.

    The frame has ``text`` (str, missing texts as ``""``) and ``label`` (str, or None when unlabelled),
    plus, when the source has them, ``id`` (str), ``timestamp`` (UTC when the source has offsets),
    ``group`` and ``spans`` (doccano span exports: lists of ``(start, end, tag)``).

    Args:
        path (str | Path): The file; a relative path not found here is looked up in the data folder.
        fmt (str | None): One of ``sentiment140, airline, csv, tsv, jsonl, parquet, doccano, dissidentia``;
            None detects it from the name (``.gz``/``.zip`` allowed) and the first line.
        columns (ColumnMap | Mapping[str, str | None] | None): Source column names for the generic
            formats (``text``, ``label``, ``id``, ``timestamp``, ``group``); defaults ``text``/``label``.
            A missing default label column means unlabelled data; an explicit one is required.
        label_map (Mapping[Any, str] | None): Raw label → name (sentiment140 maps 0/2/4 by default).
        limit (int | None): Read at most this many rows.

    Returns:
        pd.DataFrame: The standard frame.

    Raises:
        DataError: If the file is missing, a directory, empty, undecodable, malformed or lacks a column.

    >>> df = load_dataset("sentiment140_train_subset_110k.csv.gz")
    >>> sorted(df["label"].unique())
    ['negative', 'positive']
    """
    resolved = resolve_path(path)
    if resolved.stat().st_size == 0:
        raise DataError(f"{path}: empty file")
    fmt = fmt.lower() if fmt else detect_format(resolved)
    if fmt not in FORMATS:
        raise DataError(f"{path}: unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    cmap = as_column_map(columns)
    if fmt == "sentiment140":
        frame = read_sentiment140(resolved, label_map, limit)
    elif fmt == "airline":
        frame = read_airline(resolved, label_map, limit)
    elif fmt == "dissidentia":
        frame = read_dissidentia(resolved, label_map, limit)
    elif fmt == "doccano":
        frame = read_doccano(resolved, limit)
        if label_map:
            frame["label"] = [label_map.get(v, v) if v is not None else None for v in frame["label"]]
    else:
        frame = _read_generic(resolved, fmt, cmap, "label" in cmap.model_fields_set, label_map, limit)
    if frame.empty and limit != 0:
        raise DataError(f"{path}: no data rows")
    frame.attrs.update(source=str(resolved), format=fmt)
    return frame
