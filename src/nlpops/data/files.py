"""File access for the data stage: path resolution, transparent decompression, checksums."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, cast

from nlpops.errors import DataError
from nlpops.settings import get_settings

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


def sha256_file(path: Path) -> str:
    """The SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
