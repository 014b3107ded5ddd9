"""``TransformerClassifier``: fine-tune a BERT-family checkpoint under the nlpops estimator contract.

The preprocessing recipe, the tokenizer, ``max_length`` and the fine-tuned weights are saved
together (``save_pretrained`` folders plus a JSON state). When the folder also holds an ONNX export
(``nlpops export-onnx``), predictions run on ONNX Runtime instead of torch.

Usage (not run as a doctest: it needs a model or data file)::

    from nlpops.models import build_model
    clf = build_model("transformer", {"checkpoint": "minilm", "max_epochs": 1})
    clf.fit(texts, labels).predict(["what a lovely flight"])
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from nlpops.models.base import TextClassifier, softmax
from nlpops.models.classical import build_text_preprocessor
from nlpops.models.deep.trainer import loss_weights, resolve_device, torch_threads
from nlpops.models.hf.checkpoints import resolve_checkpoint
from nlpops.models.hf.finetune import FineTuneConfig, fine_tune, window_logits
from nlpops.models.hf.windows import Windows, choose_max_length, encode_windows, model_max_length, pool_logits
from nlpops.settings import resolve_threads

HF_DIR = "hf"
STATE_JSON = "transformer_state.json"
ONNX_BATCH = 32  # ONNX Runtime on 2 cores: 731 texts/s at 32 per batch, 644 at 128, 491 at 512


def quiet_transformers() -> None:
    """Silence the expected 'newly initialized classifier' warnings of a fresh classification head."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def subsample(y: np.ndarray, n: int | None, seed: int) -> np.ndarray:
    """Sorted indices of a stratified sample of ``n`` items (all of them when ``n`` is None or larger)."""
    idx = np.arange(len(y))
    if n is None or n >= len(y):
        return idx
    stratify = y if np.bincount(y).min() >= 2 else None
    keep, _ = train_test_split(idx, train_size=n, stratify=stratify, random_state=seed)
    return np.sort(keep)


class TransformerClassifier(TextClassifier):
    """A fine-tuned transformer (BERT, DistilBERT, RoBERTa, CamemBERT, MiniLM…) on raw text.

    Args:
        checkpoint (str): "minilm" (all-MiniLM-L6-v2, offline), a local ``save_pretrained`` folder,
            or a Hugging Face hub id (online, or already cached).
        recipe (str | list[Any]): ``nlpops.text`` recipe applied before the tokenizer ("none": raw).
        lang (str): language of the recipe.
        max_length (int | None): tokens per window; None takes the 95th percentile of the training
            texts' token lengths (within the model's limit). Always honoured.
        window_stride (int): tokens shared by consecutive windows of a long text.
        max_epochs (int): most passes over the training texts (early stopping may end sooner).
        max_train_samples (int | None): a stratified sample of the fit data, to bound CPU runs.
        batch_size (int): training batch size.
        eval_batch_size (int): prediction batch size.
        learning_rate (float): AdamW peak learning rate.
        weight_decay (float): AdamW weight decay (not on biases and LayerNorm).
        warmup_ratio (float): share of the steps with a rising learning rate.
        eval_every (int | None): optimiser steps between validations; None = each epoch.
        patience (int): validations without improvement of accuracy before stopping.
        validation_fraction (float): share of the fit data held out for early stopping; 0 = none.
        max_val_samples (int): cap on that hold-out (evaluating costs time on CPU).
        class_weight (str | None): None or "balanced" (loss weights inverse to class counts).
        freeze_embeddings (bool): keep the embedding layer fixed (faster on CPU).
        freeze_layers (int): keep the first N encoder layers fixed.
        random_state (int): seed of the sampling, the head's initialisation, batches and dropout.
        device (str): "auto" (CUDA when present), "cpu" or "cuda".
        n_jobs (int | None): torch and ONNX Runtime threads; None takes ``Settings.num_threads``.
        verbose (bool | None): progress bar; None shows it only on a terminal.
        use_onnx (bool): predict with the ONNX export when the saved folder has one.
    """

    kind: ClassVar[str] = "transformer"

    def __init__(
        self,
        checkpoint: str = "minilm",
        recipe: str | list[Any] = "none",
        lang: str = "en",
        max_length: int | None = None,
        window_stride: int = 32,
        max_epochs: int = 2,
        max_train_samples: int | None = None,
        batch_size: int = 32,
        eval_batch_size: int = 128,
        learning_rate: float = 5e-5,
        weight_decay: float = 0.01,
        warmup_ratio: float = 0.1,
        eval_every: int | None = None,
        patience: int = 2,
        validation_fraction: float = 0.1,
        max_val_samples: int = 2000,
        class_weight: str | None = None,
        freeze_embeddings: bool = False,
        freeze_layers: int = 0,
        random_state: int = 0,
        device: str = "auto",
        n_jobs: int | None = None,
        verbose: bool | None = None,
        use_onnx: bool = True,
    ) -> None:
        self.checkpoint = checkpoint
        self.recipe = recipe
        self.lang = lang
        self.max_length = max_length
        self.window_stride = window_stride
        self.max_epochs = max_epochs
        self.max_train_samples = max_train_samples
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.warmup_ratio = warmup_ratio
        self.eval_every = eval_every
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.max_val_samples = max_val_samples
        self.class_weight = class_weight
        self.freeze_embeddings = freeze_embeddings
        self.freeze_layers = freeze_layers
        self.random_state = random_state
        self.device = device
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.use_onnx = use_onnx

    # --- fitting ------------------------------------------------------------------------------
    def _load_pretrained(self, n_classes: int) -> None:
        """Tokenizer and a fresh classification head on the checkpoint's encoder."""
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        quiet_transformers()
        path = resolve_checkpoint(self.checkpoint)
        self.tokenizer_ = AutoTokenizer.from_pretrained(path)
        labels = {i: str(c) for i, c in enumerate(self.classes_)}
        self.model_ = AutoModelForSequenceClassification.from_pretrained(
            path,
            num_labels=n_classes,
            id2label=labels,
            label2id={v: k for k, v in labels.items()},
            problem_type="single_label_classification",
            ignore_mismatched_sizes=True,  # a checkpoint with another head gets a new one
        )
        self._freeze()

    def _freeze(self) -> None:
        """Stop gradients to the embeddings and the first ``freeze_layers`` encoder layers."""
        base = getattr(self.model_, self.model_.base_model_prefix, self.model_)
        if self.freeze_embeddings and hasattr(base, "embeddings"):
            base.embeddings.requires_grad_(False)
        layers = getattr(getattr(base, "encoder", None), "layer", None) or getattr(
            getattr(base, "transformer", None), "layer", []
        )
        for layer in list(layers)[: self.freeze_layers]:
            layer.requires_grad_(False)

    def _config(self, y: np.ndarray, device: torch.device) -> FineTuneConfig:
        weights = loss_weights(self.class_weight, y, len(self.classes_))
        return FineTuneConfig(
            learning_rate=self.learning_rate,
            weight_decay=self.weight_decay,
            warmup_ratio=self.warmup_ratio,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            eval_batch_size=self.eval_batch_size,
            eval_every=self.eval_every,
            patience=self.patience,
            class_weights=weights,
            random_state=self.random_state,
            bf16=device.type == "cuda" and torch.cuda.is_bf16_supported(),
            verbose=sys.stderr.isatty() if self.verbose is None else bool(self.verbose),
            epoch_callback=self.epoch_callback,
        )

    def _split(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Training and early-stopping indices (stratified, seeded) of a ``max_train_samples`` sample."""
        keep = subsample(y, self.max_train_samples, self.random_state)
        if not self.validation_fraction:
            return keep, keep[:0]
        n_val = min(
            max(round(self.validation_fraction * len(keep)), len(self.classes_)), self.max_val_samples
        )
        stratify = y[keep] if np.bincount(y[keep]).min() >= 2 else None
        train_idx, val_idx = train_test_split(
            keep, test_size=n_val, stratify=stratify, random_state=self.random_state
        )
        return np.sort(train_idx), np.sort(val_idx)

    def _fit(self, texts: list[str], y: np.ndarray) -> None:
        torch.manual_seed(self.random_state)  # the new head's initialisation and dropout
        device = resolve_device(self.device)
        with torch_threads(resolve_threads(self.n_jobs)):
            self.preprocessor_ = build_text_preprocessor(self.recipe, self.lang).fit(texts)
            clean = self.preprocessor_.transform(texts)
            self._load_pretrained(len(self.classes_))
            train_idx, val_idx = self._split(y)
            cap = model_max_length(self.tokenizer_, self.model_.config)
            self.max_length_ = min(
                self.max_length or choose_max_length(self.tokenizer_, [clean[i] for i in train_idx], cap=cap),
                cap,
            )
            train = (self._windows([clean[i] for i in train_idx]), y[train_idx])
            val = (self._windows([clean[i] for i in val_idx]), y[val_idx]) if len(val_idx) else None
            self.model_.to(device)
            self.history_ = fine_tune(
                self.model_, train, val, self._config(y[train_idx], device), device, self._pad_id()
            )
            self.n_train_samples_ = len(train_idx)
        self.model_.eval()

    def _windows(self, clean: list[str]) -> Windows:
        stride = min(self.window_stride, self.max_length_ // 2)
        return encode_windows(self.tokenizer_, clean, self.max_length_, stride)

    def _pad_id(self) -> int:
        return int(self.tokenizer_.pad_token_id or 0)

    # --- prediction ---------------------------------------------------------------------------
    def window_logits(self, windows: Windows) -> np.ndarray:
        """Logits of each window, from ONNX Runtime when an export is loaded, else from torch."""
        session = getattr(self, "onnx_", None)
        if session is not None and self.use_onnx:
            return np.asarray(session.logits(windows, ONNX_BATCH, self._pad_id()))
        device = next(self.model_.parameters()).device
        with torch_threads(resolve_threads(self.n_jobs)):
            return window_logits(self.model_, windows, self.eval_batch_size, self._pad_id(), device)

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        windows = self._windows(self.preprocessor_.transform(texts))
        return softmax(pool_logits(self.window_logits(windows), windows))

    # --- persistence --------------------------------------------------------------------------
    def _save_state(self, folder: Path) -> None:
        self.model_.save_pretrained(folder / HF_DIR)
        self.tokenizer_.save_pretrained(folder / HF_DIR)
        state = {
            "params": self.get_params(deep=False),
            "classes": [str(c) for c in self.classes_],
            "max_length": self.max_length_,
            "history": getattr(self, "history_", []),
            "n_train_samples": getattr(self, "n_train_samples_", None),
        }
        (folder / STATE_JSON).write_text(json.dumps(state, indent=1), encoding="utf-8")

    @classmethod
    def _load_state(cls, folder: Path) -> TransformerClassifier:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from nlpops.models.hf.onnx import ONNX_FILE, OnnxLogits

        quiet_transformers()
        state = json.loads((folder / STATE_JSON).read_text(encoding="utf-8"))
        model = cls.from_saved_params(state["params"])
        model.classes_ = np.asarray(state["classes"])
        model.max_length_ = int(state["max_length"])
        model.history_ = state["history"]
        model.n_train_samples_ = state["n_train_samples"]
        model.preprocessor_ = build_text_preprocessor(model.recipe, model.lang).fit(None)
        model.tokenizer_ = AutoTokenizer.from_pretrained(folder / HF_DIR)
        model.model_ = AutoModelForSequenceClassification.from_pretrained(folder / HF_DIR)
        model.model_.to(resolve_device(model.device)).eval()
        if (folder / ONNX_FILE).is_file() and model.use_onnx:
            model.onnx_ = OnnxLogits(folder / ONNX_FILE, resolve_threads(model.n_jobs))
        return model
