"""The skills data types every stage shares: labels, character spans and annotated records.

The lowest module of the package (imports nothing from it), so readers, scorers, the ruler and the
models can all use these types without importing one another.
"""

from __future__ import annotations

from dataclasses import dataclass

LABELS = ("PROG_LANG", "DB", "PLATFORM", "FRAMEWORKS")

SpanT = tuple[int, int, str]  # (start character, end character, label)
SpanSet = set[SpanT]


@dataclass(frozen=True)
class Record:
    """One annotated posting: text, character spans ``(start, end, label)``, and where it came from."""

    text: str
    spans: tuple[SpanT, ...]
    id: str = ""
    line: int = 0
    reviewed: bool = False
