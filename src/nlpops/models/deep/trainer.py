"""The training loop: bucketed batches, cross-entropy, AdamW, schedule, clipping, early stopping.

The loss is cross-entropy on the C logits, never binary cross-entropy on two logits: with two
sigmoid outputs the classes do not compete and the probabilities need not sum to one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from nlpops.errors import ParameterError
from nlpops.models.deep.vocab import PAD_ID
from nlpops.progress import progress_bar

SCHEDULES = ("constant", "linear", "cosine", "plateau")
BUCKET_BATCHES = 50  # texts are sorted by length within chunks of this many batches


@dataclass
class TrainConfig:
    """Optimisation settings of one fit (the estimator fills them from its parameters)."""

    learning_rate: float = 2e-3
    weight_decay: float = 0.0
    batch_size: int = 256
    max_epochs: int = 5
    patience: int = 1
    clip_norm: float | None = 1.0
    lr_schedule: str = "linear"
    class_weights: np.ndarray | None = None
    frozen_rows: np.ndarray | None = None  # embedding rows kept fixed (pretrained, frozen)
    random_state: int = 0
    verbose: bool = False
    epoch_callback: Callable[[int, dict[str, float]], None] | None = None  # e.g. Optuna's pruning report


def resolve_device(device: str) -> torch.device:
    """``"auto"`` is CUDA when present, else the CPU; anything else is passed to torch."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def loss_weights(class_weight: str | None, y: np.ndarray, n_classes: int) -> np.ndarray | None:
    """Cross-entropy weights: None, or "balanced" (inverse to each class's count, as scikit-learn)."""
    if class_weight is None:
        return None
    if class_weight != "balanced":
        raise ParameterError(f"class_weight must be None or 'balanced', got {class_weight!r}")
    counts = np.bincount(y, minlength=n_classes).astype(float)
    return len(y) / (n_classes * np.maximum(counts, 1.0))


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run with ``n`` intra-op threads (None or 0: leave torch's choice), then restore it."""
    before = torch.get_num_threads()
    changed = bool(n) and n != before
    if changed:
        torch.set_num_threads(int(n or 0))
    try:
        yield
    finally:
        if changed:
            torch.set_num_threads(before)


def bucket_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator | None) -> list[np.ndarray]:
    """Index batches of texts of similar length, so that little padding is computed.

    Args:
        lengths (np.ndarray): the length of each text.
        batch_size (int): texts per batch.
        rng (np.random.Generator | None): shuffles texts, then batches (training); None sorts
            all texts by length (prediction).

    Returns:
        list[np.ndarray]: the index arrays of the batches.
    """
    if rng is None:
        order = np.argsort(lengths, kind="stable")
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    order = rng.permutation(len(lengths))
    batches: list[np.ndarray] = []
    chunk = batch_size * BUCKET_BATCHES
    for start in range(0, len(order), chunk):
        part = order[start : start + chunk]
        part = part[np.argsort(lengths[part], kind="stable")]
        batches += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def collate(
    seqs: list[np.ndarray], idx: np.ndarray, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad one batch to its own longest text (dynamic padding); lengths stay on the CPU."""
    lengths = np.fromiter((len(seqs[i]) for i in idx), dtype=np.int64, count=len(idx))
    ids = np.full((len(idx), int(lengths.max())), PAD_ID, dtype=np.int64)
    for row, i in enumerate(idx):
        ids[row, : lengths[row]] = seqs[i]
    return torch.from_numpy(ids).to(device), torch.from_numpy(lengths)


def predict_logits(
    net: nn.Module, seqs: list[np.ndarray], batch_size: int, device: torch.device
) -> np.ndarray:
    """Logits of every text, computed in length-sorted batches, returned in input order."""
    net.eval()
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
    out: np.ndarray | None = None
    with torch.inference_mode():
        for idx in bucket_batches(lengths, batch_size, None):
            logits = net(*collate(seqs, idx, device)).float().cpu().numpy()
            if out is None:
                out = np.empty((len(seqs), logits.shape[1]), dtype=np.float32)
            out[idx] = logits
    return out if out is not None else np.zeros((0, 0), dtype=np.float32)


def _optimizer(net: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """AdamW; the embeddings get no weight decay (it would also move frozen rows)."""
    embed = [p for name, p in net.named_parameters() if name.startswith("embedding.")]
    rest = [p for name, p in net.named_parameters() if not name.startswith("embedding.")]
    groups = [{"params": embed, "weight_decay": 0.0}, {"params": rest, "weight_decay": cfg.weight_decay}]
    return torch.optim.AdamW(groups, lr=cfg.learning_rate)


def _scheduler(optimizer: torch.optim.Optimizer, cfg: TrainConfig, steps_per_epoch: int) -> Any:
    """The learning-rate schedule, stepped per batch (``plateau``: per epoch on validation loss)."""
    total = max(cfg.max_epochs * steps_per_epoch, 1)
    if cfg.lr_schedule == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=0)
    factors = {
        "constant": lambda step: 1.0,
        "linear": lambda step: max(0.0, 1.0 - step / total),
        "cosine": lambda step: 0.5 * (1.0 + math.cos(math.pi * min(step, total) / total)),
    }
    if cfg.lr_schedule not in factors:
        raise ParameterError(f"lr_schedule must be one of {SCHEDULES}, got {cfg.lr_schedule!r}")
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factors[cfg.lr_schedule])


@contextmanager
def _frozen(net: nn.Module, rows: np.ndarray | None) -> Iterator[None]:
    """Zero the gradient of the frozen embedding rows while training; the hook is then removed
    (a hook on a parameter would stop the model from pickling)."""
    if rows is None or not rows.any():
        yield
        return
    weight = net.get_parameter("embedding.weight")
    keep = torch.from_numpy((~rows).astype(np.float32))[:, None].to(weight.device)
    handle = weight.register_hook(lambda grad: grad * keep)
    try:
        yield
    finally:
        handle.remove()


class _Epoch:
    """What one epoch needs: data, optimiser, schedule and loss."""

    def __init__(self, net: nn.Module, cfg: TrainConfig, device: torch.device, steps: int) -> None:
        self.net, self.cfg, self.device = net, cfg, device
        weight = None
        if cfg.class_weights is not None:
            weight = torch.as_tensor(cfg.class_weights, dtype=torch.float32, device=device)
        self.loss_fn = nn.CrossEntropyLoss(weight=weight)  # C logits; never BCE on two of them
        self.optimizer = _optimizer(net, cfg)
        self.scheduler = _scheduler(self.optimizer, cfg, steps)

    def train(
        self, seqs: list[np.ndarray], y: torch.Tensor, batches: list[np.ndarray], progress: Any, task: Any
    ) -> float:
        """One pass over ``batches``; returns the mean training loss."""
        self.net.train()
        total, seen = 0.0, 0
        for idx in batches:
            self.optimizer.zero_grad(set_to_none=True)
            loss = self.loss_fn(self.net(*collate(seqs, idx, self.device)), y[idx].to(self.device))
            loss.backward()
            if self.cfg.clip_norm:
                nn.utils.clip_grad_norm_(self.net.parameters(), self.cfg.clip_norm)
            self.optimizer.step()
            if self.cfg.lr_schedule != "plateau":
                self.scheduler.step()
            total, seen = total + loss.item() * len(idx), seen + len(idx)
            if progress is not None:
                progress.advance(task)
        return total / max(seen, 1)

    def evaluate(self, seqs: list[np.ndarray], y: np.ndarray) -> tuple[float, float]:
        """Loss and accuracy on held-out texts."""
        logits = torch.from_numpy(predict_logits(self.net, seqs, self.cfg.batch_size * 4, self.device))
        with torch.inference_mode():
            loss = float(self.loss_fn(logits.to(self.device), torch.as_tensor(y).to(self.device)))
        return loss, float((logits.argmax(dim=1).numpy() == y).mean())


class EarlyStopping:
    """Remember the weights of the evaluation with the lowest score (a loss, or minus a metric);
    say when to stop."""

    def __init__(self, patience: int) -> None:
        self.patience = patience
        self.best_loss, self.stale = math.inf, 0
        self.best: dict[str, torch.Tensor] | None = None

    def should_stop(self, net: nn.Module, val_loss: float) -> bool:
        """Record an evaluation; True after ``patience`` of them without improvement."""
        if val_loss < self.best_loss:
            self.best_loss, self.stale = val_loss, 0
            self.best = {k: v.detach().clone() for k, v in net.state_dict().items()}
            return False
        self.stale += 1
        return self.stale >= self.patience

    def restore(self, net: nn.Module) -> None:
        """Load the best weights back (no-op without validation)."""
        if self.best is not None:
            net.load_state_dict(self.best)


def fit_net(
    net: nn.Module,
    train: tuple[list[np.ndarray], np.ndarray],
    val: tuple[list[np.ndarray], np.ndarray] | None,
    cfg: TrainConfig,
    device: torch.device,
) -> list[dict[str, float]]:
    """Train ``net`` in place; with ``val``, stop early and keep the weights of the best epoch.

    Args:
        net (nn.Module): the network, already on ``device``.
        train (tuple[list[np.ndarray], np.ndarray]): id sequences and class indices.
        val (tuple[list[np.ndarray], np.ndarray] | None): held-out texts for early stopping.
        cfg (TrainConfig): optimisation settings.
        device (torch.device): where to compute.

    Returns:
        list[dict[str, float]]: per epoch: epoch, train_loss, val_loss, val_accuracy, seconds
        (NaN validation figures without ``val``).
    """
    seqs, y = train
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
    rng = np.random.default_rng(cfg.random_state)
    run = _Epoch(net, cfg, device, math.ceil(len(seqs) / cfg.batch_size))
    y_t = torch.as_tensor(y, dtype=torch.long)
    stopper, history = EarlyStopping(cfg.patience), []
    with progress_bar(cfg.verbose) as progress, _frozen(net, cfg.frozen_rows):
        for epoch in range(1, cfg.max_epochs + 1):
            started = time.perf_counter()
            batches = bucket_batches(lengths, cfg.batch_size, rng)
            task = None if progress is None else progress.add_task(f"epoch {epoch}", total=len(batches))
            row = {"epoch": epoch, "train_loss": run.train(seqs, y_t, batches, progress, task)}
            val_loss, val_acc = run.evaluate(*val) if val is not None else (math.nan, math.nan)
            row |= {"val_loss": val_loss, "val_accuracy": val_acc, "seconds": time.perf_counter() - started}
            history.append(row)
            if cfg.epoch_callback is not None:  # may raise (a pruned trial stops here)
                cfg.epoch_callback(epoch, row)
            if progress is not None:
                progress.remove_task(task)
                progress.console.print(", ".join(f"{k} {v:.4g}" for k, v in row.items()))
            if val is None:
                continue
            if cfg.lr_schedule == "plateau":
                run.scheduler.step(val_loss)
            if stopper.should_stop(net, val_loss):
                break
    stopper.restore(net)
    return history
