"""The data formats: each registers its reader and how to recognise its files, in one place.

A new format is one :func:`register_format` call; :func:`nlpops.data.load_dataset` reads it by
name (``format:`` in a config) and :func:`detect_format` picks it up from a file's name or content::

    @register_format("reviews", suffixes=(".reviews",), layout="csv")
    def read_reviews(path: Path, options: ReadOptions) -> pd.DataFrame:
        ...

Formats are tried in the order they registered; a file that none recognises is delimited text,
``tsv`` when its first line has more tabs than commas, else ``csv``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from nlpops.data.files import COMPRESSED_SUFFIXES, SENTIMENT140_COLUMNS, read_head
from nlpops.data.jsonl import read_doccano, read_jsonl
from nlpops.data.readers import (
    OPTIONAL_COLUMNS,
    ColumnMap,
    read_airline,
    read_delimited,
    read_dissidentia,
    read_parquet,
    read_sentiment140,
    sniff_separator,
    standardize,
)
from nlpops.errors import DataError

Layout = Literal["csv", "tsv", "jsonl", "parquet"]  # how the file is laid out, for readers of raw columns


@dataclass(frozen=True)
class ReadOptions:
    """What :func:`~nlpops.data.load_dataset` asks of a reader besides the file."""

    columns: ColumnMap = field(default_factory=ColumnMap)
    label_required: bool = False  # whether a missing label column is an error (else labels are None)
    label_map: Mapping[Any, str] | None = None  # raw label -> label name
    limit: int | None = None  # rows to read at most


class Probe:
    """What format detection looks at, each read once and only when a format asks for it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        suffixes = [s.lower() for s in path.suffixes]
        while suffixes and suffixes[-1] in COMPRESSED_SUFFIXES:
            suffixes.pop()
        self.suffix = suffixes[-1] if suffixes else ""  # the suffix of the content, not of its compression

    @cached_property
    def magic(self) -> bytes:
        """The first bytes of the file as stored (before decompression)."""
        with self.path.open("rb") as handle:
            return handle.read(8)

    @cached_property
    def first_line(self) -> str:
        """The first non-blank line of the (decompressed) text.

        Raises:
            DataError: the file holds no text.
        """
        text = read_head(self.path).decode("utf-8", errors="replace").lstrip("\ufeff")
        line = next((line for line in io.StringIO(text) if line.strip()), "")
        if not line:
            raise DataError(f"{self.path}: empty file")
        return line

    @cached_property
    def delimiter(self) -> str:
        """A tab when the first line has more tabs than commas, else a comma."""
        return "\t" if self.first_line.count("\t") > self.first_line.count(",") else ","

    @cached_property
    def fields(self) -> list[str]:
        """The first line split by :attr:`delimiter`."""
        return next(csv.reader([self.first_line], delimiter=self.delimiter), [])

    @cached_property
    def header(self) -> set[str]:
        """The first line's fields, stripped and lower-cased (the column names of a header)."""
        return {name.strip().lower() for name in self.fields}

    @cached_property
    def record(self) -> dict[str, Any] | None:
        """The first line as a JSON object, or None when it is not one."""
        if not self.first_line.lstrip().startswith("{"):
            return None
        try:
            record = json.loads(self.first_line)
        except json.JSONDecodeError:
            return {}  # a broken JSON line is still JSON lines: its reader names the line
        return record if isinstance(record, dict) else {}


Reader = Callable[[Path, ReadOptions], pd.DataFrame]


@dataclass(frozen=True)
class Format:
    """A registered format: its reader and the signs of its files."""

    name: str
    read: Reader
    layout: Layout
    suffixes: tuple[str, ...] = ()
    magic: bytes | None = None
    sniff: Callable[[Probe], bool] | None = None

    def recognises(self, probe: Probe) -> bool:
        """Whether ``probe``'s file is of this format: by its suffix, its first bytes, then its content."""
        if probe.suffix in self.suffixes:
            return True
        if self.magic is not None and probe.magic.startswith(self.magic):
            return True
        return self.sniff is not None and self.sniff(probe)


FORMATS: dict[str, Format] = {}


def register_format(
    name: str,
    layout: Layout,
    suffixes: tuple[str, ...] = (),
    magic: bytes | None = None,
    sniff: Callable[[Probe], bool] | None = None,
) -> Callable[[Reader], Reader]:
    """Register the decorated reader as format ``name``, recognised by a file's ``suffixes`` (without
    compression), its ``magic`` first bytes, or ``sniff(probe)``; ``layout`` tells the raw readers
    (``nlpops watch``) how to read its columns."""

    def decorate(read: Reader) -> Reader:
        FORMATS[name] = Format(name, read, layout, tuple(s.lower() for s in suffixes), magic, sniff)
        return read

    return decorate


def detect_format(path: Path) -> str:
    """Guess a file's format from its name and its first bytes or line.

    Returns:
        str: A key of :data:`FORMATS`.

    Raises:
        DataError: If the file is empty.
    """
    probe = Probe(path)
    found = next((fmt.name for fmt in FORMATS.values() if fmt.recognises(probe)), None)
    return found or ("tsv" if probe.delimiter == "\t" else "csv")


def _generic(path: Path, raw: pd.DataFrame, options: ReadOptions) -> pd.DataFrame:
    """Map a generic file's columns onto the standard frame (our own columns are picked up by name)."""
    cmap = options.columns
    implicit = {name: name for name in OPTIONAL_COLUMNS if name in raw and name not in cmap.model_fields_set}
    cmap = cmap.model_copy(update=implicit)
    out = standardize(raw, cmap, path, label_required=options.label_required, label_map=options.label_map)
    if "spans" in raw and "spans" not in cmap.model_dump().values():
        out["spans"] = raw["spans"].to_numpy()
    return out


@register_format("parquet", layout="parquet", suffixes=(".parquet", ".pq"), magic=b"PAR1")
def _read_parquet(path: Path, options: ReadOptions) -> pd.DataFrame:
    return _generic(path, read_parquet(path, options.limit), options)


def _is_doccano(probe: Probe) -> bool:
    """A JSON record whose labels, cats or entities are lists or mappings (span or class annotations)."""
    keys = ("label", "labels", "cats", "entities", "ents")
    return probe.record is not None and any(isinstance(probe.record.get(k), list | dict) for k in keys)


@register_format("doccano", layout="jsonl", sniff=_is_doccano)
def _read_doccano(path: Path, options: ReadOptions) -> pd.DataFrame:
    frame = read_doccano(path, options.limit)
    if options.label_map:
        mapping = options.label_map
        frame["label"] = [mapping.get(v, v) if v is not None else None for v in frame["label"]]
    return frame


@register_format(
    "jsonl", layout="jsonl", suffixes=(".jsonl", ".ndjson", ".json"), sniff=lambda p: p.record is not None
)
def _read_jsonl(path: Path, options: ReadOptions) -> pd.DataFrame:
    return _generic(path, read_jsonl(path, options.limit), options)


@register_format("tsv", layout="tsv", suffixes=(".tsv", ".tab"))
def _read_tsv(path: Path, options: ReadOptions) -> pd.DataFrame:
    return _generic(path, read_delimited(path, sep="\t", limit=options.limit), options)


def _is_sentiment140(probe: Probe) -> bool:
    """The raw file (six fields, a 0/2/4 target first) or the merged one (its column names)."""
    raw = len(probe.fields) == 6 and probe.fields[0].strip() in {"0", "2", "4"}
    return raw or set(SENTIMENT140_COLUMNS) <= probe.header


@register_format("sentiment140", layout="csv", sniff=_is_sentiment140)
def _read_sentiment140(path: Path, options: ReadOptions) -> pd.DataFrame:
    return read_sentiment140(path, options.label_map, options.limit)


@register_format(
    "airline", layout="csv", sniff=lambda p: {"airline_sentiment", "tweet_created", "text"} <= p.header
)
def _read_airline(path: Path, options: ReadOptions) -> pd.DataFrame:
    return read_airline(path, options.label_map, options.limit)


@register_format(  # dissidentIA's annotator columns
    "dissidentia", layout="csv", sniff=lambda p: {"amir", "charles", "moindze", "text", "label"} <= p.header
)
def _read_dissidentia(path: Path, options: ReadOptions) -> pd.DataFrame:
    return read_dissidentia(path, options.label_map, options.limit)


@register_format("csv", layout="csv")  # also the format of a file no format recognises
def _read_csv(path: Path, options: ReadOptions) -> pd.DataFrame:
    raw = read_delimited(path, sep=sniff_separator(path), limit=options.limit)
    return _generic(path, raw, options)
