"""Readers for JSON-lines files: generic records and doccano exports (classification and spans)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from nlpops.data.files import open_binary
from nlpops.errors import DataError

Span = tuple[int, int, str]
_LABEL_KEYS = ("label", "labels", "cats")
_SPAN_KEYS = ("entities", "ents", "spans")


def iter_records(path: Path, limit: int | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line number, record)`` for each non-blank line of a JSONL file.

    Args:
        path (Path): The file (possibly compressed).
        limit (int | None): Stop after this many records.

    Yields:
        tuple[int, dict[str, Any]]: The 1-based line number and the decoded object.

    Raises:
        DataError: On undecodable bytes, malformed JSON or a line that is not an object.
    """
    count = 0
    with open_binary(path) as handle:
        for number, raw in enumerate(handle, start=1):
            if limit is not None and count >= limit:
                return
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise DataError(f"{path}: line {number}: bytes that are not valid utf-8 ({exc})") from None
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}: line {number}: malformed JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise DataError(f"{path}: line {number}: expected a JSON object, got {type(record).__name__}")
            count += 1
            yield number, record


def read_jsonl(path: Path, limit: int | None = None) -> pd.DataFrame:
    """Read a JSONL file of flat records into a frame (columns as found)."""
    records = [record for _, record in iter_records(path, limit)]
    if not records:
        raise DataError(f"{path}: empty file")
    return pd.DataFrame.from_records(records)


def _as_span(item: Any, path: Path, number: int) -> Span:
    """One span from ``[start, end, tag]`` or ``{"start_offset", "end_offset", "label"}``."""
    try:
        if isinstance(item, dict):
            start = item.get("start_offset", item.get("start"))
            end = item.get("end_offset", item.get("end"))
            return int(start), int(end), str(item.get("label", item.get("tag")))  # type: ignore[arg-type]
        start, end, tag = item
        return int(start), int(end), str(tag)
    except (TypeError, ValueError):
        raise DataError(f"{path}: line {number}: cannot read span {item!r}") from None


def _class_label(value: Any) -> str | None:
    """The class of a doccano/spaCy classification value: first of a list, best of a score dict."""
    if isinstance(value, dict):
        return str(max(value, key=lambda key: value[key])) if value else None
    if isinstance(value, list):
        return str(value[0]) if value else None
    return None if value is None else str(value)


def _parse_doccano(record: dict[str, Any], path: Path, number: int) -> dict[str, Any]:
    """Text, label, spans and id of one doccano record."""
    text = record.get("text", record.get("data"))
    if not isinstance(text, str):
        raise DataError(f"{path}: line {number}: no 'text' string; keys found: {', '.join(record)}")
    label_key = next((key for key in _LABEL_KEYS if key in record), None)
    span_key = next((key for key in _SPAN_KEYS if key in record), None)
    value = record.get(label_key) if label_key else None
    spans: list[Span] | None = None
    if span_key is not None:
        spans = [_as_span(item, path, number) for item in record[span_key] or []]
        value = None if span_key == label_key else value
    elif isinstance(value, list) and value and isinstance(value[0], list | dict):
        spans, value = [_as_span(item, path, number) for item in value], None
    return {"id": record.get("id"), "text": text, "label": _class_label(value), "spans": spans}


def read_doccano(path: Path, limit: int | None = None) -> pd.DataFrame:
    """Read a doccano JSONL export.

    Classification exports (``"label": ["pos"]`` or ``"cats"``) give one ``label`` per text: the first
    label of a multi-label record (a score dict gives its best class). Span exports (``"label":
    [[start, end, TAG], ...]``, or ``"entities"`` as lists or dicts with ``start_offset/end_offset/label``)
    give a ``spans`` column of ``(start, end, tag)`` tuples and no label.

    Args:
        path (Path): The export (possibly compressed).
        limit (int | None): Read at most this many records.

    Returns:
        pd.DataFrame: Columns ``id`` (when present), ``text``, ``label`` and, for span exports, ``spans``.

    Raises:
        DataError: On malformed lines or an empty file.
    """
    rows = [_parse_doccano(record, path, number) for number, record in iter_records(path, limit)]
    if not rows:
        raise DataError(f"{path}: empty file")
    frame = pd.DataFrame.from_records(rows)
    frame["label"] = frame["label"].astype(object).where(frame["label"].notna(), None)
    if frame["spans"].notna().any():
        frame["spans"] = [spans if isinstance(spans, list) else [] for spans in frame["spans"]]
    else:
        frame = frame.drop(columns="spans")
    if frame["id"].isna().all():
        return frame.drop(columns="id")
    frame["id"] = [None if pd.isna(v) else str(v) for v in frame["id"]]
    return frame
