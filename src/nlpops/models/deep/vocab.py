"""Tokens to ids: a frequency-cut vocabulary with reserved padding and unknown-word ids.

>>> vocab = Vocab.build([["good", "day"], ["good", "night"]], min_count=2)
>>> vocab.itos
['<pad>', '<unk>', 'good']
>>> [ids.tolist() for ids in vocab.encode([["good", "bye"], []])]
[[2, 1], [1]]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1


def tokenize(preprocessor: Any, texts: Sequence[str]) -> list[list[str]]:
    """Run the model's preprocessing recipe, then split its space-joined tokens.

    Args:
        preprocessor (Any): a fitted ``nlpops.text`` pipeline (``list[str] -> list[str]``).
        texts (Sequence[str]): raw texts.

    Returns:
        list[list[str]]: the tokens of each text.
    """
    return [text.split() for text in preprocessor.transform(list(texts))]


@dataclass
class Vocab:
    """Words by id (``itos``); ids 0 and 1 are padding and the (learned) unknown word.

    Args:
        itos (list[str]): the words, ``[PAD, UNK, *by descending frequency]``.
        counts (list[int]): the training count of each word (0 for PAD and UNK).
    """

    itos: list[str]
    counts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.stoi = {word: i for i, word in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    @classmethod
    def build(cls, tokens: Iterable[list[str]], min_count: int = 2, max_size: int | None = None) -> Vocab:
        """Keep words seen at least ``min_count`` times, the ``max_size`` most frequent at most.

        Ties in frequency are broken alphabetically so that the ids never depend on row order.

        Args:
            tokens (Iterable[list[str]]): tokenised training texts.
            min_count (int): minimum count to get an id; rarer words map to UNK.
            max_size (int | None): cap on the number of words (PAD and UNK excluded).

        Returns:
            Vocab: the vocabulary.
        """
        counter = Counter(word for text in tokens for word in text)
        kept = sorted(
            ((w, c) for w, c in counter.items() if c >= min_count and w not in (PAD, UNK)),
            key=lambda wc: (-wc[1], wc[0]),
        )[:max_size]
        return cls([PAD, UNK, *(w for w, _ in kept)], [0, 0, *(c for _, c in kept)])

    def encode(self, tokens: Iterable[list[str]], max_len: int | None = None) -> list[np.ndarray]:
        """Ids of each text, truncated to ``max_len``; an empty text becomes ``[UNK]``.

        Every sequence keeps at least one id because packed LSTM batches reject length 0.

        Args:
            tokens (Iterable[list[str]]): tokenised texts.
            max_len (int | None): keep only the first ``max_len`` tokens.

        Returns:
            list[np.ndarray]: one int64 array per text.
        """
        stoi = self.stoi
        out = []
        for text in tokens:
            ids = [stoi.get(word, UNK_ID) for word in text[:max_len]] or [UNK_ID]
            out.append(np.asarray(ids, dtype=np.int64))
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (see :meth:`from_dict`)."""
        return {"itos": self.itos, "counts": self.counts}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Vocab:
        """Rebuild a vocabulary saved by :meth:`to_dict`."""
        return cls(list(data["itos"]), list(data.get("counts", [])))
