"""``TorchTextClassifier``: a PyTorch network on raw text under the nlpops estimator contract.

Preprocessing (an ``nlpops.text`` recipe), vocabulary, embeddings (random, trained with gensim
on the training texts, or pretrained) and the network are all fitted in ``fit`` and saved
together: ``weights.pt`` (the state dict, read back with ``weights_only=True``) and a JSON of
the parameters, vocabulary, coverage and training history. Nothing torch-specific is pickled.

>>> from nlpops.models import build_model
>>> clf = build_model("embed_bag", {"max_epochs": 30, "min_count": 1})
>>> clf = clf.fit(["good", "bad"] * 8, ["pos", "neg"] * 8)
>>> str(clf.predict("good")[0])
'pos'
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from nlpops.errors import ParameterError
from nlpops.models.base import TextClassifier, softmax
from nlpops.models.classical import build_text_preprocessor
from nlpops.models.deep.nets import ARCHS, build_net
from nlpops.models.deep.trainer import (
    SCHEDULES,
    TrainConfig,
    fit_net,
    loss_weights,
    predict_logits,
    resolve_device,
    torch_threads,
)
from nlpops.models.deep.vectors import TRAINED, embedding_matrix, load_vectors, train_vectors
from nlpops.models.deep.vocab import Vocab, tokenize
from nlpops.settings import resolve_threads

WEIGHTS_FILE = "weights.pt"
STATE_JSON = "deep_state.json"
EMBEDDINGS = ("random", *TRAINED, "pretrained")
PREDICT_BATCH = 1024  # inference batches: no gradients kept, so larger batches are cheap


class TorchTextClassifier(TextClassifier):
    """Shared machinery of the networks; use a subclass (its class picks the architecture).

    Every subclass takes the same parameters; those of another architecture are ignored (as
    scikit-learn's MLP ignores ``momentum`` unless its solver is "sgd"). Early stopping watches
    the loss on a stratified ``validation_fraction`` of the fit data (as the MLP does), since
    ``fit`` receives the training split only.

    Args:
        recipe (str | list[Any]): ``nlpops.text`` preprocessing recipe.
        lang (str): language code for the recipe.
        min_count (int): minimum training count of a word to get its own id.
        max_vocab (int | None): cap on the vocabulary size.
        max_len (int): tokens kept per text.
        embeddings (str): "random", "word2vec" / "fasttext" (gensim, trained on the fit texts)
            or "pretrained" (read from ``vectors_path``).
        vectors_path (str | None): pretrained vectors file (word2vec, GloVe, fastText).
        vectors_format (str | None): its format (see ``vectors.VECTOR_FORMATS``); None detects.
        embedding_dim (int): embedding width (pretrained vectors impose their own).
        freeze_embeddings (bool): keep pretrained rows fixed (UNK and uncovered words still learn).
        w2v_sg (int): gensim training: 1 skip-gram, 0 CBOW.
        w2v_window (int): gensim context window.
        w2v_epochs (int): gensim passes over the texts.
        hidden_size (int): LSTM units per direction; dense width for ``embed_bag``.
        num_layers (int): LSTM layers (``bilstm``).
        bidirectional (bool): read both ways (``bilstm``).
        pooling (str): "mean" or "max" (``embed_bag``).
        kernel_sizes (tuple[int, ...]): convolution widths (``cnn``).
        num_filters (int): filters per width (``cnn``).
        dropout (float): dropout rate.
        learning_rate (float): AdamW learning rate.
        weight_decay (float): AdamW weight decay (not applied to embeddings).
        lr_schedule (str): "constant", "linear", "cosine" (per batch) or "plateau" (per epoch).
        clip_norm (float | None): gradient norm clipping; None disables it.
        batch_size (int): training batch size.
        max_epochs (int): most passes over the data.
        patience (int): epochs without validation improvement before stopping.
        validation_fraction (float): share of the fit data held out for early stopping; 0 = none.
        class_weight (str | None): None or "balanced" (loss weights inverse to class counts).
        random_state (int): seed of the split, vectors, initialisation, batches and dropout.
        device (str): "auto" (CUDA when present), "cpu" or "cuda".
        n_jobs (int | None): torch threads; None takes ``Settings.num_threads`` (0 = torch's choice).
        verbose (bool | None): progress bar; None shows it only on a terminal.
    """

    arch: ClassVar[str] = ""  # set by each subclass: one of nets.ARCHS

    def __init__(
        self,
        recipe: str | list[Any] = "tweet",
        lang: str = "en",
        min_count: int = 2,
        max_vocab: int | None = 50_000,
        max_len: int = 64,
        embeddings: Literal["random", "word2vec", "fasttext", "pretrained"] = "random",
        vectors_path: str | None = None,
        vectors_format: str | None = None,
        embedding_dim: int = 100,
        freeze_embeddings: bool = False,
        w2v_sg: int = 1,
        w2v_window: int = 5,
        w2v_epochs: int = 5,
        hidden_size: int = 128,
        num_layers: int = 1,
        bidirectional: bool = True,
        pooling: Literal["mean", "max"] = "mean",
        kernel_sizes: tuple[int, ...] = (2, 3, 4),
        num_filters: int = 100,
        dropout: float = 0.3,
        learning_rate: float = 2e-3,
        weight_decay: float = 1e-4,
        lr_schedule: Literal["constant", "linear", "cosine", "plateau"] = "linear",
        clip_norm: float | None = 1.0,
        batch_size: int = 256,
        max_epochs: int = 5,
        patience: int = 1,
        validation_fraction: float = 0.1,
        class_weight: Literal["balanced"] | None = None,
        random_state: int = 0,
        device: str = "auto",
        n_jobs: int | None = None,
        verbose: bool | None = None,
    ) -> None:
        self.recipe = recipe
        self.lang = lang
        self.min_count = min_count
        self.max_vocab = max_vocab
        self.max_len = max_len
        self.embeddings = embeddings
        self.vectors_path = vectors_path
        self.vectors_format = vectors_format
        self.embedding_dim = embedding_dim
        self.freeze_embeddings = freeze_embeddings
        self.w2v_sg = w2v_sg
        self.w2v_window = w2v_window
        self.w2v_epochs = w2v_epochs
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.pooling = pooling
        self.kernel_sizes = kernel_sizes
        self.num_filters = num_filters
        self.dropout = dropout
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.clip_norm = clip_norm
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.class_weight = class_weight
        self.random_state = random_state
        self.device = device
        self.n_jobs = n_jobs
        self.verbose = verbose

    # --- fitting ------------------------------------------------------------------------------
    def _check_params(self) -> None:
        """Fail before any work on a bad choice (the messages list the valid ones)."""
        if self.arch not in ARCHS:
            raise TypeError("use a subclass: EmbedBagClassifier, BiLSTMClassifier or CNNClassifier")
        choices = {"embeddings": EMBEDDINGS, "lr_schedule": SCHEDULES}
        for name, valid in choices.items():
            if getattr(self, name) not in valid:
                raise ParameterError(f"{name} must be one of {valid}, got {getattr(self, name)!r}")
        if self.embeddings == "pretrained" and not self.vectors_path:
            raise ParameterError("embeddings='pretrained' needs vectors_path (word2vec, GloVe, fastText)")
        if self.class_weight not in (None, "balanced"):
            raise ParameterError(f"class_weight must be None or 'balanced', got {self.class_weight!r}")

    def _split(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Indices of the training part and of the stratified early-stopping part."""
        idx = np.arange(len(y))
        if not self.validation_fraction:
            return idx, idx[:0]
        n_val = max(round(self.validation_fraction * len(y)), len(self.classes_))
        stratify = y if np.bincount(y).min() >= 2 else None  # a singleton class cannot be split
        train_idx, val_idx = train_test_split(
            idx, test_size=n_val, stratify=stratify, random_state=self.random_state
        )
        return np.sort(train_idx), np.sort(val_idx)

    def _vectors(self, tokens: list[list[str]]) -> Any | None:
        """The word vectors the embeddings start from (None: random)."""
        if self.embeddings == "pretrained":
            return load_vectors(str(self.vectors_path), self.vectors_format)
        if self.embeddings in TRAINED:
            return train_vectors(
                tokens,
                self.embeddings,
                self.embedding_dim,
                window=self.w2v_window,
                sg=self.w2v_sg,
                epochs=self.w2v_epochs,
                min_count=self.min_count,
                seed=self.random_state,
            )
        return None

    def _train_config(self, y: np.ndarray, frozen_rows: np.ndarray | None) -> TrainConfig:
        weights = loss_weights(self.class_weight, y, len(self.classes_))
        verbose = sys.stderr.isatty() if self.verbose is None else self.verbose
        return TrainConfig(
            learning_rate=self.learning_rate,
            weight_decay=self.weight_decay,
            batch_size=self.batch_size,
            max_epochs=self.max_epochs,
            patience=self.patience,
            clip_norm=self.clip_norm,
            lr_schedule=self.lr_schedule,
            class_weights=weights,
            frozen_rows=frozen_rows,
            random_state=self.random_state,
            verbose=verbose,
            epoch_callback=self.epoch_callback,
        )

    def _fit(self, texts: list[str], y: np.ndarray) -> None:
        self._check_params()
        with torch_threads(resolve_threads(self.n_jobs)):
            torch.manual_seed(self.random_state)  # initialisation and dropout
            self.preprocessor_ = build_text_preprocessor(self.recipe, self.lang).fit(texts)
            tokens = tokenize(self.preprocessor_, texts)
            train_idx, val_idx = self._split(y)
            train_tokens = [tokens[i] for i in train_idx]  # vocab and vectors never see validation
            self.vocab_ = Vocab.build(train_tokens, self.min_count, self.max_vocab)
            kv = self._vectors(train_tokens)
            table, uncovered, self.coverage_ = embedding_matrix(
                self.vocab_, kv, self.embedding_dim, self.random_state
            )
            device = resolve_device(self.device)
            self.net_ = build_net(self.arch, table, len(self.classes_), self.get_params()).to(device)
            seqs = self.vocab_.encode(tokens, self.max_len)
            frozen = ~uncovered if self.freeze_embeddings and kv is not None else None
            val = ([seqs[i] for i in val_idx], y[val_idx]) if len(val_idx) else None
            train = ([seqs[i] for i in train_idx], y[train_idx])
            self.history_ = fit_net(self.net_, train, val, self._train_config(y[train_idx], frozen), device)
        self.net_.eval()

    # --- prediction ---------------------------------------------------------------------------
    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        with torch_threads(resolve_threads(self.n_jobs)):
            seqs = self.vocab_.encode(tokenize(self.preprocessor_, texts), self.max_len)
            device = next(self.net_.parameters()).device
            return softmax(predict_logits(self.net_, seqs, PREDICT_BATCH, device))

    # --- persistence: state dict + JSON ---------------------------------------------------------
    def _save_state(self, folder: Path) -> None:
        torch.save({k: v.cpu() for k, v in self.net_.state_dict().items()}, folder / WEIGHTS_FILE)
        embedding = self.net_.get_parameter("embedding.weight")
        state = {
            "params": self.get_params(deep=False),
            "classes": [str(c) for c in self.classes_],
            "embedding_shape": list(embedding.shape),
            "vocab": self.vocab_.to_dict(),
            "coverage": self.coverage_,
            "history": self.history_,
        }
        (folder / STATE_JSON).write_text(json.dumps(state), encoding="utf-8")

    @classmethod
    def _load_state(cls, folder: Path) -> TorchTextClassifier:
        state = json.loads((folder / STATE_JSON).read_text(encoding="utf-8"))
        params = state["params"]
        params["kernel_sizes"] = tuple(params["kernel_sizes"])  # JSON turned the tuple into a list
        model = cls.from_saved_params(params)
        model.classes_ = np.asarray(state["classes"])
        model.vocab_ = Vocab.from_dict(state["vocab"])
        model.coverage_ = state["coverage"]
        model.history_ = state["history"]
        model.preprocessor_ = build_text_preprocessor(model.recipe, model.lang).fit(None)
        table = np.zeros(state["embedding_shape"], dtype=np.float32)  # overwritten by the weights
        model.net_ = build_net(model.arch, table, len(model.classes_), params)
        weights = torch.load(folder / WEIGHTS_FILE, map_location="cpu", weights_only=True)
        model.net_.load_state_dict(weights)
        model.net_.to(resolve_device(model.device)).eval()
        return model


class EmbedBagClassifier(TorchTextClassifier):
    """Kind ``embed_bag``: mean- or max-pooled word embeddings, a dense layer, the logits."""

    arch = "embed_bag"


class BiLSTMClassifier(TorchTextClassifier):
    """Kind ``bilstm``: a 1–2 layer (Bi)LSTM over packed sequences, dropout, the logits."""

    arch = "bilstm"


class CNNClassifier(TorchTextClassifier):
    """Kind ``cnn``: 1-D convolutions of several widths, max-pooled, dropout, the logits."""

    arch = "cnn"
