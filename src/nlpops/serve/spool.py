"""A local append-only spool of prediction rows: an answered prediction is on disk first.

``POST /v1/predict`` answers before its rows reach the database (one transaction per request cost
the service most of its throughput). To keep the rule "a 2xx is a stored write", every answered
row is first appended to a segment file of this spool and made durable (``fdatasync``) before the
answer goes out. The syncs are grouped: the micro-batcher (``serve/batcher.py``) writes the rows of
a whole batch of requests and syncs once, in the worker thread that just ran the model, so the cost
per request is a share of one ``write`` and one sync (~0.2 ms here) and no extra thread hop.

The database writer (``serve/writer.py``) inserts the rows afterwards. A segment file is deleted
once every row in it is committed to the database. What a crash (``kill -9``), a shutdown during an
outage or an outage itself leaves behind stays in the segment files, bounded by disk
(``spool_max_bytes``), and is replayed into the database at the next start or when the database
answers again. Replays are idempotent (``INSERT … ON CONFLICT DO NOTHING`` on the row id), so a row
stored twice is stored once: the guarantee is at-least-once writing, exactly-once rows.

Each process appends to segments of its own and holds an exclusive ``flock`` on each of them; a
segment nobody holds belongs to a process that died, and the next process to start replays it.
One row is one line of JSON; a torn last line (a write cut by the crash, never acknowledged) is
skipped when replayed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pydantic_core

log = logging.getLogger(__name__)
Row = dict[str, Any]
SUFFIX = ".spool"
DEFAULT_SEGMENT_BYTES = 8 * 1024 * 1024
READ_BYTES = 1 << 20


class SpoolFullError(OSError):
    """The spool holds ``max_bytes`` already: the database has been away too long to accept more."""


@dataclass(eq=False)
class Segment:
    """One segment file: appended by this process (``fd`` open) or left by a dead one (orphan)."""

    path: Path
    fd: int
    size: int = 0  # bytes written (whole lines only)
    rows: int = 0  # rows written
    committed: int = 0  # bytes whose rows are in the database, from the start
    committed_rows: int = 0
    sealed: bool = False  # no more appends: orphans, and our segments once full
    synced: int = 0  # bytes made durable

    @property
    def pending_rows(self) -> int:
        return self.rows - self.committed_rows

    @property
    def done(self) -> bool:
        """Sealed and every row committed: the file can go."""
        return self.sealed and self.committed >= self.size


@dataclass(frozen=True)
class Ticket:
    """Where an append landed: bytes ``[start, end)`` of ``segment``, holding ``rows``."""

    segment: Segment
    start: int
    end: int
    rows: list[Row] = field(repr=False)


def encode_rows(rows: list[Row]) -> bytes:
    """Rows as JSON lines (datetimes as ISO 8601)."""
    return b"".join(pydantic_core.to_json(row) + b"\n" for row in rows)


def decode_lines(data: bytes) -> tuple[list[Row], int]:
    """The rows in ``data`` (JSON lines) and how many lines could not be read (a torn tail)."""
    rows, bad = [], 0
    for line in data.splitlines():
        try:
            row = json.loads(line)
            row["created_at"] = datetime.fromisoformat(row["created_at"])
            row.setdefault("origin", "live")  # rows spooled before predictions had an origin
        except (ValueError, KeyError, TypeError):
            bad += 1
            continue
        rows.append(row)
    return rows, bad


class Spool:
    """Segment files of prediction rows in ``folder`` (made if missing).

    Args:
        folder: where the segments live; one folder per database (:func:`spool_folder`).
        max_bytes: the most bytes of rows not yet in the database; past it :meth:`append` raises
            ``SpoolFullError`` (the files hold at most ``segment_bytes`` more: the committed part of
            the segment being written).
        segment_bytes: a segment is sealed (and a new one begun) once it is this large.
    """

    def __init__(self, folder: Path, max_bytes: int, segment_bytes: int = DEFAULT_SEGMENT_BYTES) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self.segments: list[Segment] = []  # oldest first: orphans, then ours
        self.torn = 0  # lines skipped at replay
        self._active: Segment | None = None
        self._lock = threading.Lock()  # appends, seals and releases
        self._sync_lock = threading.Lock()

    # --- opening and closing --------------------------------------------------------------------
    def open(self) -> list[Segment]:
        """Create the folder and adopt the segments no live process holds; returns those orphans."""
        self.folder.mkdir(parents=True, exist_ok=True)
        orphans = []
        for path in sorted(self.folder.glob(f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime):
            segment = self._adopt(path)
            if segment is not None:
                orphans.append(segment)
        with self._lock:
            self.segments[:0] = orphans
        if orphans:
            rows = sum(s.rows for s in orphans)
            log.warning("spool %s: %d predictions left by a stopped process, to store", self.folder, rows)
        return orphans

    def _adopt(self, path: Path) -> Segment | None:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return None  # another process replayed and removed it meanwhile
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None  # a live process appends to it
        data = os.pread(fd, os.fstat(fd).st_size, 0)
        whole = data.rfind(b"\n") + 1  # bytes up to the last whole line
        if whole < len(data):
            self.torn += 1  # a write the crash cut: it was never acknowledged
        return Segment(path, fd, size=whole, rows=data.count(b"\n", 0, whole), sealed=True, synced=whole)

    def close(self) -> None:
        """Sync, close every file, remove the segments whose rows are all in the database."""
        with self._lock:
            for segment in self.segments:
                segment.sealed = True
                with contextlib.suppress(OSError):
                    os.fdatasync(segment.fd)
                if segment.done:
                    segment.path.unlink(missing_ok=True)
                os.close(segment.fd)
            self.segments.clear()
            self._active = None

    # --- appending --------------------------------------------------------------------------------
    @property
    def bytes_held(self) -> int:
        """Bytes of rows not yet in the database (the files on disk hold at most one segment more)."""
        return sum(s.size - s.committed for s in self.segments)

    @property
    def pending_rows(self) -> int:
        """Rows written here and not yet committed to the database."""
        return sum(s.pending_rows for s in self.segments)

    def append(self, rows: list[Row]) -> Ticket:
        """Write ``rows`` to the active segment (not yet durable: see :meth:`sync`)."""
        data = encode_rows(rows)
        with self._lock:
            if self.bytes_held + len(data) > self.max_bytes:
                raise SpoolFullError(
                    f"the prediction spool {self.folder} holds {self.bytes_held:,} bytes "
                    f"(limit {self.max_bytes:,}): the database has not answered for too long"
                )
            segment = self._writable()
            start = segment.size
            try:
                _write_all(segment.fd, data)
            except OSError:
                os.ftruncate(segment.fd, start)  # no torn line for the next append to follow
                raise
            segment.size += len(data)
            segment.rows += len(rows)
            if segment.size >= self.segment_bytes:
                segment.sealed = True
                self._active = None
            return Ticket(segment, start, segment.size, rows)

    def _writable(self) -> Segment:
        if self._active is None:
            name = f"{os.getpid()}-{uuid.uuid4().hex[:12]}{SUFFIX}"
            path = self.folder / name
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self._active = Segment(path, fd)
            self.segments.append(self._active)
            _sync_folder(self.folder)  # the new name survives a crash too
        return self._active

    def sync(self) -> None:
        """Make every byte written so far durable."""
        with self._sync_lock:
            with self._lock:
                todo = [(s, s.size) for s in self.segments if s.synced < s.size]
            for segment, size in todo:
                os.fdatasync(segment.fd)
                segment.synced = max(segment.synced, size)

    # --- reading back and releasing --------------------------------------------------------------
    def read(self, segment: Segment, start: int, end: int) -> Iterator[tuple[list[Row], int]]:
        """The rows in bytes ``[start, end)`` of ``segment`` (whole lines), in chunks of about
        ``READ_BYTES``: (rows, the byte offset the chunk ends at)."""
        position = start
        while position < end:
            data = os.pread(segment.fd, min(end - position, READ_BYTES), position)
            if not data:
                return
            if position + len(data) < end:
                cut = data.rfind(b"\n") + 1
                if cut == 0:  # one line longer than a chunk: read up to its end
                    data += os.pread(segment.fd, end - position - len(data), position + len(data))
                    cut = data.find(b"\n") + 1 or len(data)
                data = data[:cut]
            rows, bad = decode_lines(data)
            self.torn += bad
            position += len(data)
            yield rows, position

    def release_done(self) -> int:
        """Delete the sealed segments whose rows are all committed; returns how many went."""
        if not any(s.done for s in self.segments):
            return 0
        with self._lock:
            done = [s for s in self.segments if s.done]
            for segment in done:
                self.segments.remove(segment)
                segment.path.unlink(missing_ok=True)
        with self._sync_lock:  # not while a sync uses the descriptor
            for segment in done:
                os.close(segment.fd)
        return len(done)

    def snapshot(self) -> list[tuple[Segment, int]]:
        """Each segment with its bytes written now, oldest first."""
        with self._lock:
            return [(s, s.size) for s in self.segments]


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
