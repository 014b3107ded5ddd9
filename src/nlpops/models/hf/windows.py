"""Token windows: texts → input ids, long texts split into overlapping windows, logits pooled back.

Tweets fit in one window; job postings and Grand Débat answers often do not. Truncating them would
throw away most of the text, so every text is cut into windows of ``max_length`` tokens that
overlap by ``stride`` tokens, each window is scored, and the logits of a text's windows are averaged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from nlpops.errors import ParameterError

MAX_POSITIONS = 512  # BERT-family models have 512 positions unless their config says otherwise
LENGTH_SAMPLE = 5000  # texts looked at to choose max_length


@dataclass
class Windows:
    """Token ids of each window (special tokens included) and the text each window comes from."""

    ids: list[list[int]]
    owner: np.ndarray
    n_texts: int
    offsets: list[list[tuple[int, int]]] | None = None  # each piece's characters, when asked for

    @property
    def lengths(self) -> np.ndarray:
        """Tokens per window."""
        return np.fromiter((len(w) for w in self.ids), dtype=np.int64, count=len(self.ids))


def model_max_length(tokenizer: Any, config: Any | None = None) -> int:
    """The most tokens the model accepts (the tokenizer may say 10^30 when it does not know)."""
    limits = [MAX_POSITIONS]
    if 0 < getattr(tokenizer, "model_max_length", 0) < 100_000:
        limits.append(int(tokenizer.model_max_length))
    if config is not None and getattr(config, "max_position_embeddings", None):
        limits.append(int(config.max_position_embeddings))
    return min(limits)


def choose_max_length(tokenizer: Any, texts: Sequence[str], percentile: float = 95, cap: int = 512) -> int:
    """The ``percentile`` of the token lengths of (a sample of) ``texts``, within [16, ``cap``].

    Args:
        tokenizer: a Hugging Face tokenizer.
        texts: training texts.
        percentile: share of texts that fit in one window.
        cap: the model's limit (:func:`model_max_length`).
    """
    sample = list(texts[:LENGTH_SAMPLE]) or [""]
    lengths = [len(ids) for ids in tokenizer(sample, add_special_tokens=True)["input_ids"]]
    return int(min(cap, max(16, math.ceil(float(np.percentile(lengths, percentile))))))


def encode_windows(
    tokenizer: Any, texts: Sequence[str], max_length: int, stride: int, offsets: bool = False
) -> Windows:
    """Tokenise ``texts`` into windows of at most ``max_length`` tokens overlapping by ``stride``.

    Args:
        tokenizer: a fast Hugging Face tokenizer (overflowing tokens need one).
        texts: raw texts.
        max_length: tokens per window, special tokens included.
        stride: tokens shared by consecutive windows of one text; must leave room to advance.
        offsets: also return each token's ``(start, end)`` characters in its text (``(0, 0)`` for
            special tokens), as token classification needs.

    Returns:
        Windows: every window of every text; each text has at least one.
    """
    room = max_length - tokenizer.num_special_tokens_to_add()
    if not 0 <= stride < room:
        raise ParameterError(
            f"window_stride must be in [0, {room}) for max_length={max_length}, got {stride}"
        )
    enc = tokenizer(
        list(texts),
        truncation=True,
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_attention_mask=False,
        return_offsets_mapping=offsets,
    )
    owner = np.asarray(enc["overflow_to_sample_mapping"], dtype=np.int64)
    chars = [[(int(s), int(e)) for s, e in w] for w in enc["offset_mapping"]] if offsets else None
    return Windows(ids=list(enc["input_ids"]), owner=owner, n_texts=len(texts), offsets=chars)


def pad_windows(windows: Windows, idx: np.ndarray, pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Input ids and attention mask of the windows ``idx``, padded to the longest of them (int64)."""
    rows = [windows.ids[i] for i in idx]
    ids = np.full((len(rows), max(len(r) for r in rows)), pad_id, dtype=np.int64)
    mask = np.zeros_like(ids)
    for r, row in enumerate(rows):
        ids[r, : len(row)] = row
        mask[r, : len(row)] = 1
    return ids, mask


def collate(windows: Windows, idx: np.ndarray, pad_id: int, device: torch.device) -> dict[str, torch.Tensor]:
    """The windows ``idx`` as torch inputs on ``device`` (dynamic padding: to the longest of them)."""
    ids, mask = pad_windows(windows, idx, pad_id)
    return {
        "input_ids": torch.from_numpy(ids).to(device),
        "attention_mask": torch.from_numpy(mask).to(device),
    }


def pool_logits(logits: np.ndarray, windows: Windows) -> np.ndarray:
    """Average the logits of each text's windows (one row per text, in input order)."""
    out = np.zeros((windows.n_texts, logits.shape[1]), dtype=np.float64)
    np.add.at(out, windows.owner, logits)
    counts = np.bincount(windows.owner, minlength=windows.n_texts).astype(np.float64)
    return out / np.maximum(counts, 1.0)[:, None]
