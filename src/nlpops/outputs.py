"""Output folders written all or nothing: files go to a staging folder, then are moved in place.

A command that fails half-way (bad row at the end of a file, disk full, Ctrl-C) leaves the ``--out``
folder as it was: no truncated parquet, no report pointing at a missing plot.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def check_out_dir(out_dir: Path) -> None:
    """Fail early, with one clear line, when ``out_dir`` exists and is not a folder."""
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f"{out_dir}: exists and is not a folder; give --out a folder")


@contextmanager
def staged_dir(out_dir: str | Path) -> Iterator[Path]:
    """Yield a fresh staging folder beside ``out_dir``; on success its files replace those of
    ``out_dir`` (a new ``out_dir`` appears at once, by one rename), on error it is removed.

    Args:
        out_dir: The output folder (created if needed; other files in it are kept).

    >>> with staged_dir(Path(tempfile.mkdtemp()) / "report") as stage:
    ...     _ = (stage / "report.md").write_text("# ok")
    """
    out = Path(out_dir)
    check_out_dir(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        yield stage
        publish(stage, out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def publish(stage: Path, out: Path) -> None:
    """Move the staged files into ``out``: the folder itself when ``out`` is new, else file by file
    (``os.replace``: each file is the old one or the new one, never a mix)."""
    stage.chmod(0o755)  # mkdtemp's 0700 would make the published folder private
    if not out.exists():
        stage.rename(out)
        return
    for item in sorted(stage.iterdir()):
        target = out / item.name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)  # os.replace cannot replace a non-empty folder
        os.replace(item, target)


@contextmanager
def filled_once(final: Path) -> Iterator[Path]:
    """Yield a private staging folder beside ``final``; on success it becomes ``final`` by one rename.

    Several processes may fill the same cache entry at once (``nlpops serve --workers 2`` starting):
    each writes its own folder, the first rename wins and the others are dropped (same content), so
    no reader ever sees a half-written ``final`` and no writer trips over another's files.

    Args:
        final: The folder to create.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    try:
        yield stage
        stage.chmod(0o755)
        try:
            stage.rename(final)
        except OSError:
            if not final.is_dir():  # not lost to another writer: a real error
                raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)
