"""``BoundedMemo``: a dictionary that computes a missing value once, with bounded memory.

The text and TF-IDF paths memoise per whitespace chunk or per word: on a stream of tweets almost every
chunk has been seen before, so a lookup replaces regexes and n-gram loops. A stream is open-ended, so
the memo is emptied when it reaches ``size`` entries (what repeats comes back at once).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class BoundedMemo(dict[K, V], Generic[K, V]):
    """``memo[key]`` is ``compute(key)``, computed on the first lookup only.

    Hits are plain ``dict`` lookups (no Python call); a miss on a full memo empties it first.

    Args:
        compute (Callable[[K], V]): the value of a key.
        size (int): the most entries kept.

    >>> squares = BoundedMemo(lambda x: x * x, size=2)
    >>> squares[3], squares[4], len(squares), squares[5], len(squares)
    (9, 16, 2, 25, 1)
    """

    def __init__(self, compute: Callable[[K], V], size: int) -> None:
        super().__init__()
        self.compute = compute
        self.size = size

    def __missing__(self, key: K) -> V:
        if len(self) >= self.size:
            self.clear()
        value = self[key] = self.compute(key)
        return value
