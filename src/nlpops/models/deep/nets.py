"""The networks: padded ids ``[batch, time]`` and lengths ``[batch]`` in, class logits out.

Each network gives the same output for a text whatever else is in its batch (padding never
reaches a pooled value), so batched and one-by-one predictions agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from nlpops.errors import ParameterError
from nlpops.models.deep.vocab import PAD_ID

ARCHS = ("embed_bag", "bilstm", "cnn")


def _embedding(table: np.ndarray, bag_mode: str | None = None) -> nn.Embedding | nn.EmbeddingBag:
    """An embedding layer initialised from ``table``; PAD rows are excluded from bags."""
    weight = torch.from_numpy(np.ascontiguousarray(table, dtype=np.float32))
    if bag_mode is None:
        return nn.Embedding.from_pretrained(weight, freeze=False, padding_idx=PAD_ID)
    return nn.EmbeddingBag.from_pretrained(weight, freeze=False, mode=bag_mode, padding_idx=PAD_ID)


class EmbedBagNet(nn.Module):
    """Mean- or max-pooled word embeddings, one hidden dense layer, then the logits.

    Args:
        table (np.ndarray): initial embedding table ``[vocab, dim]``.
        n_classes (int): number of outputs.
        hidden_size (int): width of the dense layer.
        dropout (float): dropout before each dense layer.
        pooling (str): "mean" or "max".
    """

    def __init__(
        self, table: np.ndarray, n_classes: int, hidden_size: int, dropout: float, pooling: str = "mean"
    ) -> None:
        super().__init__()
        if pooling not in ("mean", "max"):
            raise ParameterError(f"pooling must be 'mean' or 'max', got {pooling!r}")
        self.embedding = _embedding(table, bag_mode=pooling)
        self.head = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(table.shape[1], hidden_size),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden_size, n_classes),
        )

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits ``[batch, classes]``; ``lengths`` is unused (PAD is excluded from the bag)."""
        return self.head(self.embedding(ids))


class LSTMNet(nn.Module):
    """A (Bi)LSTM over packed sequences; the last layer's final states feed the dense output.

    Args:
        table (np.ndarray): initial embedding table ``[vocab, dim]``.
        n_classes (int): number of outputs.
        hidden_size (int): LSTM units per direction.
        dropout (float): dropout on the embeddings, between layers and before the output.
        num_layers (int): stacked LSTM layers.
        bidirectional (bool): read the text both ways.
    """

    def __init__(
        self,
        table: np.ndarray,
        n_classes: int,
        hidden_size: int,
        dropout: float,
        num_layers: int = 1,
        bidirectional: bool = True,
    ) -> None:
        super().__init__()
        self.embedding = _embedding(table)
        self.dropout = nn.Dropout(dropout)
        self.lstm = nn.LSTM(
            table.shape[1],
            hidden_size,
            num_layers=num_layers,
            bidirectional=bidirectional,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        directions = 2 if bidirectional else 1
        self.out = nn.Linear(hidden_size * directions, n_classes)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits ``[batch, classes]`` (``lengths`` on the CPU, all ≥ 1)."""
        packed = pack_padded_sequence(
            self.dropout(self.embedding(ids)), lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        _, (h_n, _) = self.lstm(packed)
        directions = 2 if self.lstm.bidirectional else 1
        last = h_n[-directions:]  # the last layer: [directions, batch, hidden]
        return self.out(self.dropout(torch.cat(list(last), dim=1)))


class CNNNet(nn.Module):
    """1-D convolutions of several widths, max-pooled over the valid positions, then the logits.

    Args:
        table (np.ndarray): initial embedding table ``[vocab, dim]``.
        n_classes (int): number of outputs.
        dropout (float): dropout on the embeddings and before the output.
        kernel_sizes (tuple[int, ...]): convolution widths (in tokens).
        num_filters (int): filters per width.
    """

    def __init__(
        self,
        table: np.ndarray,
        n_classes: int,
        dropout: float,
        kernel_sizes: tuple[int, ...] = (2, 3, 4),
        num_filters: int = 100,
    ) -> None:
        super().__init__()
        self.embedding = _embedding(table)
        self.dropout = nn.Dropout(dropout)
        self.kernel_sizes = tuple(kernel_sizes)
        self.kernel_sizes = tuple(kernel_sizes)
        self.convs = nn.ModuleList(nn.Conv1d(table.shape[1], num_filters, k) for k in kernel_sizes)
        self.out = nn.Linear(num_filters * len(kernel_sizes), n_classes)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits ``[batch, classes]``."""
        widest = max(self.kernel_sizes)
        if ids.shape[1] < widest:  # every text must fill the widest window at least once
            ids = nn.functional.pad(ids, (0, widest - ids.shape[1]), value=PAD_ID)
        x = self.dropout(self.embedding(ids)).transpose(1, 2)  # [batch, dim, time]
        pooled = []
        for width, conv in zip(self.kernel_sizes, self.convs, strict=True):
            feats = torch.relu(conv(x))  # [batch, filters, positions]
            # windows that start past a text's end see only padding: mask them out of the max
            valid = (lengths.to(ids.device) - width + 1).clamp(min=1)
            positions = torch.arange(feats.shape[2], device=ids.device)
            mask = positions[None, :] < valid[:, None]
            pooled.append(feats.masked_fill(~mask[:, None, :], float("-inf")).amax(dim=2))
        return self.out(self.dropout(torch.cat(pooled, dim=1)))


def build_net(arch: str, table: np.ndarray, n_classes: int, params: dict[str, Any]) -> nn.Module:
    """The network of ``arch`` with the estimator's hyperparameters.

    Args:
        arch (str): one of ``ARCHS``.
        table (np.ndarray): initial embedding table.
        n_classes (int): number of outputs.
        params (dict[str, Any]): the estimator's parameters (only the arch's own are read).

    Returns:
        nn.Module: the untrained network.
    """
    if arch == "embed_bag":
        return EmbedBagNet(table, n_classes, params["hidden_size"], params["dropout"], params["pooling"])
    if arch == "bilstm":
        return LSTMNet(
            table,
            n_classes,
            params["hidden_size"],
            params["dropout"],
            params["num_layers"],
            params["bidirectional"],
        )
    if arch == "cnn":
        kernels = tuple(int(k) for k in params["kernel_sizes"])
        return CNNNet(table, n_classes, params["dropout"], kernels, params["num_filters"])
    raise ParameterError(f"arch must be one of {ARCHS}, got {arch!r}")
