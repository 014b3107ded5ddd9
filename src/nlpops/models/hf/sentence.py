"""``SentenceLRClassifier``: sentence embeddings + logistic regression, for any encoder of ``encoders``.

The "universal sentence encoder" approach: a frozen encoder turns each text into one vector, and a
linear model learns the classes on top. Cheap to train (one encoding pass), strong with few labels;
the multilingual encoders (``e5-small-multilingual``, ``use-multilingual``) make it work on French.

Usage (not run as a doctest: it needs a model or data file)::

    from nlpops.models import build_model
    clf = build_model("sentence_lr", {"checkpoint": "e5-small-multilingual"})
    clf.fit(texts, labels).predict_proba(["merci pour tout"])
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from sklearn.linear_model import LogisticRegression

from nlpops.models.base import TextClassifier
from nlpops.models.classical import build_text_preprocessor, normalized
from nlpops.models.encoders import load_encoder, save_encoder
from nlpops.models.hf.checkpoints import shipped
from nlpops.progress import progress_bar

ENCODER_DIR = "encoder"
HEAD_FILE = "head.joblib"
STATE_JSON = "sentence_state.json"
PROGRESS_FROM = 2_000
"""Encodes of at least this many texts show a progress bar when ``verbose``."""


class SentenceLRClassifier(TextClassifier):
    """Sentence embeddings (a named offline encoder, a folder or a hub id) + logistic regression.

    Args:
        checkpoint (str): "e5-small-multilingual", "use-multilingual", "minilm", "mpnet" (when its
            parts are installed), a sentence-transformers or plain Hugging Face folder (mean pooling
            is added), or a hub id (online or cached); see ``nlpops.models.encoders``.
        recipe (str | list[Any]): ``nlpops.text`` recipe applied before encoding ("none": raw).
        lang (str): language of the recipe.
        C (float): inverse regularisation of the logistic regression.
        class_weight (str | None): None or "balanced".
        normalize (bool): L2-normalise the embeddings of a sentence-transformers encoder (cosine
            geometry, as it was trained); e5 and USE always return unit vectors.
        batch_size (int): texts per encoding batch.
        max_seq_length (int | None): tokens a sentence-transformers encoder reads per text (None: its own).
        device (str): "auto", "cpu" or "cuda" (sentence-transformers encoders).
        n_jobs (int | None): encoder threads; None takes ``Settings.num_threads``.
        verbose (bool): progress bar while encoding.
    """

    def __init__(
        self,
        checkpoint: str = "minilm",
        recipe: str | list[Any] = "none",
        lang: str = "en",
        C: float = 1.0,
        class_weight: str | None = None,
        normalize: bool = True,
        batch_size: int = 64,
        max_seq_length: int | None = None,
        device: str = "auto",
        n_jobs: int | None = None,
        verbose: bool = False,
    ) -> None:
        self.checkpoint = checkpoint
        self.recipe = recipe
        self.lang = lang
        self.C = C
        self.class_weight = class_weight
        self.normalize = normalize
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self.device = device
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _load_encoder(self, location: str) -> None:
        self.encoder_ = load_encoder(
            location,
            n_jobs=self.n_jobs,
            batch_size=self.batch_size,
            max_seq_length=self.max_seq_length,
            device=self.device,
            normalize=self.normalize,
        )

    def embed(self, texts: list[str]) -> np.ndarray:
        """The embedding of each text, after the recipe (float32, one row per text)."""
        prepared = self.preprocessor_.transform(texts)
        with progress_bar(self.verbose and len(prepared) >= PROGRESS_FROM) as progress:
            if progress is None:
                return self.encoder_.encode(prepared)
            task = progress.add_task(f"encoding ({self.checkpoint})", total=len(prepared))
            return self.encoder_.encode(prepared, on_batch=lambda n: progress.advance(task, n))

    def _fit(self, texts: list[str], y: np.ndarray) -> None:
        self.preprocessor_ = build_text_preprocessor(self.recipe, self.lang).fit(texts)
        self._load_encoder(self.checkpoint)
        self.head_ = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=2000)
        self.head_.fit(self.embed(texts), y)

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        return normalized(self.head_.predict_proba(self.embed(texts)))

    def _save_state(self, folder: Path) -> None:
        copied = not shipped(self.checkpoint)  # installed packages are not copied into the model
        if copied:
            save_encoder(self.encoder_, folder / ENCODER_DIR)
        joblib.dump(self.head_, folder / HEAD_FILE)
        state = {"params": self.get_params(deep=False), "classes": [str(c) for c in self.classes_]}
        (folder / STATE_JSON).write_text(json.dumps({**state, "encoder_copied": copied}), encoding="utf-8")

    @classmethod
    def _load_state(cls, folder: Path) -> SentenceLRClassifier:
        state = json.loads((folder / STATE_JSON).read_text(encoding="utf-8"))
        model = cls.from_saved_params(state["params"])
        model.classes_ = np.asarray(state["classes"])
        model.preprocessor_ = build_text_preprocessor(model.recipe, model.lang).fit(None)
        model._load_encoder(str(folder / ENCODER_DIR) if state["encoder_copied"] else model.checkpoint)
        model.head_ = joblib.load(folder / HEAD_FILE)
        return model
