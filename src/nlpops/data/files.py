"""File access for the data stage: path resolution, transparent decompression, format sniffing."""

from __future__ import annotations

import bz2
import csv
import gzip
import hashlib
import io
import json
import lzma
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, cast

from nlpops.errors import DataError
from nlpops.settings import get_settings

FORMATS = ("sentiment140", "airline", "csv", "tsv", "jsonl", "parquet", "doccano", "dissidentia")
COMPRESSED_SUFFIXES = (".gz", ".zip", ".bz2", ".xz")
SENTIMENT140_COLUMNS = ("target", "ids", "date", "flag", "user", "text")
_MAGIC = {b"\x1f\x8b": "gz", b"PK\x03\x04": "zip", b"BZh": "bz2", b"\xfd7zXZ": "xz"}


def data_dir() -> Path:
    """The folder of the real datasets (``NLPOPS_DATA_DIR``, else ``../shared/data``), made absolute.

    Returns:
        Path: The data folder, resolved against the current directory.
    """
    return (Path.cwd() / get_settings().data_dir).resolve()


def resolve_path(path: str | Path) -> Path:
    """Find a dataset: the path itself, else the same relative path inside :func:`data_dir`.

    Args:
        path (str | Path): A file path, absolute or relative.

    Returns:
        Path: An existing file.

    Raises:
        DataError: If the file does not exist or is a directory.
    """
    candidate = Path(path).expanduser()
    if not candidate.exists() and not candidate.is_absolute() and (data_dir() / candidate).exists():
        candidate = data_dir() / candidate
    if not candidate.exists():
        raise DataError(f"{path}: no such file")
    if candidate.is_dir():
        raise DataError(f"{path}: is a directory, expected a data file")
    return candidate


def compression_of(path: Path) -> str | None:
    """The compression of a file from its magic bytes (``gz``, ``zip``, ``bz2``, ``xz``) or None."""
    with path.open("rb") as handle:
        head = handle.read(6)
    return next((kind for magic, kind in _MAGIC.items() if head.startswith(magic)), None)


@contextmanager
def open_binary(path: Path) -> Iterator[IO[bytes]]:
    """Open a possibly compressed file as a decompressed binary stream (a zip must hold one file).

    Args:
        path (Path): The file.

    Yields:
        IO[bytes]: The decompressed content.
    """
    kind = compression_of(path)
    if kind == "zip":
        with zipfile.ZipFile(path) as archive:
            members = [info for info in archive.infolist() if not info.is_dir()]
            if len(members) != 1:
                names = [info.filename for info in members]
                raise DataError(f"{path}: a zip must hold exactly one data file, found {names}")
            with archive.open(members[0]) as handle:
                yield handle
        return
    openers: dict[str, Callable[..., Any]] = {
        "gz": gzip.GzipFile,
        "bz2": bz2.BZ2File,
        "xz": lzma.LZMAFile,
    }
    with openers.get(kind or "", open)(path, "rb") as handle:
        yield cast(IO[bytes], handle)


def read_head(path: Path, n_bytes: int = 65536) -> bytes:
    """The first decompressed bytes of a file (for sniffing)."""
    with open_binary(path) as handle:
        return handle.read(n_bytes)


def first_bad_line(path: Path, encoding: str) -> tuple[int, str]:
    """Find the first line that cannot be decoded.

    Args:
        path (Path): The file.
        encoding (str): The expected encoding.

    Returns:
        tuple[int, str]: The 1-based line number and the decoder's message (``(0, "")`` if none).
    """
    with open_binary(path) as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode(encoding)
            except UnicodeDecodeError as exc:
                return number, str(exc)
    return 0, ""


def _suffix_format(path: Path) -> str | None:
    """The format implied by the file name, ignoring compression suffixes."""
    suffixes = [s.lower() for s in path.suffixes]
    while suffixes and suffixes[-1] in COMPRESSED_SUFFIXES:
        suffixes.pop()
    ext = suffixes[-1] if suffixes else ""
    mapping = {".parquet": "parquet", ".pq": "parquet", ".tsv": "tsv", ".tab": "tsv"}
    mapping |= {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}
    return mapping.get(ext)


def _sniff_json(first_line: str) -> str:
    """``doccano`` when the first JSON record carries list-valued labels or entities, else ``jsonl``."""
    try:
        record = json.loads(first_line)
    except json.JSONDecodeError:
        return "jsonl"
    if not isinstance(record, dict):
        return "jsonl"
    keys = ("label", "labels", "cats", "entities", "ents")
    return "doccano" if any(isinstance(record.get(key), list | dict) for key in keys) else "jsonl"


def _sniff_delimited(first_line: str) -> str:
    """Tell sentiment140 (raw or merged), airline, tsv and csv apart from the first line."""
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    fields = next(csv.reader([first_line], delimiter=delimiter), [])
    names = {field.strip().lower() for field in fields}
    if len(fields) == 6 and fields[0].strip() in {"0", "2", "4"}:
        return "sentiment140"
    if set(SENTIMENT140_COLUMNS) <= names:
        return "sentiment140"
    if {"airline_sentiment", "tweet_created", "text"} <= names:
        return "airline"
    if {"amir", "charles", "moindze", "text", "label"} <= names:  # dissidentIA's annotator columns
        return "dissidentia"
    return "tsv" if delimiter == "\t" else "csv"


def detect_format(path: Path) -> str:
    """Guess a file's format from its name and its first line.

    Args:
        path (Path): An existing file.

    Returns:
        str: One of :data:`FORMATS`.

    Raises:
        DataError: If the file is empty.
    """
    by_name = _suffix_format(path)
    with path.open("rb") as handle:
        is_parquet = handle.read(4) == b"PAR1"
    if by_name == "parquet" or is_parquet:
        return "parquet"
    head = read_head(path)
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    first_line = next((line for line in io.StringIO(text) if line.strip()), "")
    if not first_line:
        raise DataError(f"{path}: empty file")
    if first_line.lstrip().startswith("{"):
        return _sniff_json(first_line)
    if by_name in {"jsonl", "tsv"}:
        return by_name
    return _sniff_delimited(first_line)


def sha256_file(path: Path) -> str:
    """The SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
