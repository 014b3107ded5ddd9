"""``load_dataset``: one entry point that reads every supported format into the standard frame."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from nlpops.data.files import resolve_path
from nlpops.data.formats import FORMATS, ReadOptions, detect_format
from nlpops.data.readers import ColumnMap, as_column_map
from nlpops.errors import DataError


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
        fmt (str | None): A registered format (:data:`~nlpops.data.formats.FORMATS`: sentiment140,
            airline, csv, tsv, jsonl, parquet, doccano, dissidentia…); None detects it from the name
            (``.gz``/``.zip`` allowed) and the first line.
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
    options = ReadOptions(cmap, "label" in cmap.model_fields_set, label_map, limit)
    frame = FORMATS[fmt].read(resolved, options)
    if frame.empty and limit != 0:
        raise DataError(f"{path}: no data rows")
    frame.attrs.update(source=str(resolved), format=fmt)
    return frame
