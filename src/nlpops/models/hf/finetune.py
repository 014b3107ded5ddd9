"""The fine-tuning loop: AdamW with linear warm-up and decay, dynamic padding, length-bucketed
batches, gradient clipping, bf16 autocast on GPU, evaluation every N steps or every epoch, early
stopping on validation accuracy with the best weights kept.

A lean loop rather than HF ``Trainer``: it shares the estimator's batching (windows of long texts)
and its history rows go straight to MLflow through ``train.log_history``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from nlpops.models.deep.trainer import EarlyStopping, bucket_batches
from nlpops.models.hf.windows import Windows, collate, pool_logits
from nlpops.progress import progress_bar


@dataclass
class FineTuneConfig:
    """Optimisation settings of one fine-tuning (filled from the estimator's parameters)."""

    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    max_epochs: int = 2
    batch_size: int = 32
    eval_batch_size: int = 128
    eval_every: int | None = None  # optimiser steps between evaluations; None = once per epoch
    patience: int = 2
    clip_norm: float = 1.0
    class_weights: np.ndarray | None = None
    random_state: int = 0
    bf16: bool = False
    verbose: bool = False
    epoch_callback: Callable[[int, dict[str, float]], None] | None = None


def window_logits(
    model: Any, windows: Windows, batch_size: int, pad_id: int, device: torch.device, bf16: bool = False
) -> np.ndarray:
    """Logits of every window, computed in length-sorted batches, returned in window order."""
    model.eval()
    out = np.zeros((len(windows.ids), model.config.num_labels), dtype=np.float32)
    with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
        for idx in bucket_batches(windows.lengths, batch_size, None):
            out[idx] = model(**collate(windows, idx, pad_id, device)).logits.float().cpu().numpy()
    return out


def _optimizer(model: nn.Module, cfg: FineTuneConfig) -> torch.optim.Optimizer:
    """AdamW; biases and LayerNorm weights get no weight decay (as in BERT's recipe)."""
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    no_decay = [p for n, p in trainable if p.ndim < 2]
    decay = [p for n, p in trainable if p.ndim >= 2]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.learning_rate)


def warmup_linear(optimizer: torch.optim.Optimizer, warmup: int, total: int) -> Any:
    """Learning rate rising linearly for ``warmup`` steps, then falling linearly to 0 at ``total``."""

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(warmup, 1)
        return max(0.0, (total - step) / max(total - warmup, 1))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


class _Loop:
    """One fine-tuning: the model, its data, optimiser, schedule, loss and evaluation."""

    def __init__(
        self, model: nn.Module, cfg: FineTuneConfig, device: torch.device, pad_id: int, total: int
    ) -> None:
        self.model, self.cfg, self.device, self.pad_id = model, cfg, device, pad_id
        weight = None
        if cfg.class_weights is not None:
            weight = torch.as_tensor(cfg.class_weights, dtype=torch.float32, device=device)
        self.loss_fn = nn.CrossEntropyLoss(weight=weight)  # C logits, never BCE on two of them
        self.optimizer = _optimizer(model, cfg)
        self.scheduler = warmup_linear(self.optimizer, int(cfg.warmup_ratio * total), total)

    def step(self, windows: Windows, y: torch.Tensor, idx: np.ndarray) -> float:
        """One optimiser step on the windows ``idx``; returns the batch loss."""
        self.model.train()
        batch = collate(windows, idx, self.pad_id, self.device)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.cfg.bf16):
            logits = self.model(**batch).logits
        loss = self.loss_fn(logits.float(), y[idx].to(self.device))
        loss.backward()
        nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.clip_norm)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return float(loss.item())

    def evaluate(self, windows: Windows, y: np.ndarray) -> tuple[float, float]:
        """Loss and accuracy on held-out texts (window logits pooled per text)."""
        raw = window_logits(
            self.model, windows, self.cfg.eval_batch_size, self.pad_id, self.device, self.cfg.bf16
        )
        logits = torch.from_numpy(pool_logits(raw, windows)).float()
        loss = float(self.loss_fn(logits.to(self.device), torch.as_tensor(y).to(self.device)))
        return loss, float((logits.argmax(dim=1).numpy() == y).mean())


def fine_tune(
    model: nn.Module,
    train: tuple[Windows, np.ndarray],
    val: tuple[Windows, np.ndarray] | None,
    cfg: FineTuneConfig,
    device: torch.device,
    pad_id: int,
) -> list[dict[str, float]]:
    """Fine-tune ``model`` in place; with ``val``, keep the weights of the best evaluation.

    Args:
        model: a ``...ForSequenceClassification`` model, already on ``device``.
        train: training windows and the class index of each window's text.
        val: held-out windows and the class index of each text (None: no early stopping).
        cfg: optimisation settings.
        device: where to compute.
        pad_id: the tokenizer's padding id.

    Returns:
        One row per evaluation: epoch (evaluation number), step, samples, train_loss, val_loss,
        val_accuracy, seconds.
    """
    windows, y = train
    y_t = torch.as_tensor(y[windows.owner], dtype=torch.long)
    rng = np.random.default_rng(cfg.random_state)
    steps_per_epoch = math.ceil(len(windows.ids) / cfg.batch_size)
    total = cfg.max_epochs * steps_per_epoch
    loop = _Loop(model, cfg, device, pad_id, total)
    every = cfg.eval_every or steps_per_epoch
    stopper, losses = EarlyStopping(cfg.patience), []
    history: list[dict[str, float]] = []
    started, step = time.perf_counter(), 0
    with progress_bar(cfg.verbose) as progress:
        task = None if progress is None else progress.add_task("fine-tuning", total=total)
        for _epoch in range(cfg.max_epochs):
            for idx in bucket_batches(windows.lengths, cfg.batch_size, rng):
                losses.append(loop.step(windows, y_t, idx))
                step += 1
                if progress is not None:
                    progress.advance(task)
                if step % every and step != total:
                    continue
                row = _evaluation(loop, val, len(history) + 1, step, losses, started, cfg.batch_size)
                history.append(row)
                losses = []
                if cfg.epoch_callback is not None:  # may raise (a pruned trial stops here)
                    cfg.epoch_callback(int(row["epoch"]), row)
                if progress is not None:
                    progress.console.print(", ".join(f"{k} {v:.4g}" for k, v in row.items()))
                if val is not None and stopper.should_stop(
                    model, -row["val_accuracy"] + 1e-6 * row["val_loss"]
                ):
                    stopper.restore(model)
                    return history
    stopper.restore(model)
    return history


def _evaluation(
    loop: _Loop,
    val: tuple[Windows, np.ndarray] | None,
    number: int,
    step: int,
    losses: list[float],
    started: float,
    batch_size: int,
) -> dict[str, float]:
    """One history row: where training is, its recent loss, and the validation figures."""
    val_loss, val_acc = loop.evaluate(*val) if val is not None else (math.nan, math.nan)
    return {
        "epoch": number,
        "step": step,
        "samples": step * batch_size,
        "train_loss": float(np.mean(losses)) if losses else math.nan,
        "val_loss": val_loss,
        "val_accuracy": val_acc,
        "seconds": time.perf_counter() - started,
    }
