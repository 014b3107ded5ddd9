"""``SentenceLRClassifier``: sentence-transformers embeddings + logistic regression.

The "universal sentence encoder" approach: a frozen encoder turns each text into one vector, and a
linear model learns the classes on top. Cheap to train (one encoding pass), strong with few labels.

Usage (not run as a doctest: it needs a model or data file)::

    from nlpops.models import build_model
    clf = build_model("sentence_lr", {"checkpoint": "minilm"})
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
from nlpops.models.deep.trainer import resolve_device, resolve_threads, torch_threads
from nlpops.models.hf.checkpoints import MINILM_ALIASES, resolve_checkpoint

ENCODER_DIR = "encoder"
HEAD_FILE = "head.joblib"
STATE_JSON = "sentence_state.json"


class SentenceLRClassifier(TextClassifier):
    """Mean-pooled sentence embeddings (sentence-transformers) + logistic regression.

    Args:
        checkpoint (str): "minilm" (offline all-MiniLM-L6-v2), a sentence-transformers or plain
            Hugging Face folder (mean pooling is added), or a hub id (online or cached).
        recipe (str | list[Any]): ``nlpops.text`` recipe applied before encoding ("none": raw).
        lang (str): language of the recipe.
        C (float): inverse regularisation of the logistic regression.
        class_weight (str | None): None or "balanced".
        normalize (bool): L2-normalise the embeddings (cosine geometry, as the encoder was trained).
        batch_size (int): texts per encoding batch.
        max_seq_length (int | None): tokens the encoder reads per text (None: the encoder's own).
        device (str): "auto", "cpu" or "cuda".
        n_jobs (int | None): torch threads; None takes ``Settings.num_threads``.
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
        from sentence_transformers import SentenceTransformer

        from nlpops.models.hf.estimator import quiet_transformers

        quiet_transformers()
        self.encoder_ = SentenceTransformer(location, device=str(resolve_device(self.device)))
        if self.max_seq_length:
            self.encoder_.max_seq_length = int(self.max_seq_length)

    def embed(self, texts: list[str]) -> np.ndarray:
        """The embedding of each text, after the recipe (float32, one row per text)."""
        with torch_threads(resolve_threads(self.n_jobs)):
            vectors = self.encoder_.encode(
                self.preprocessor_.transform(texts),
                batch_size=self.batch_size,
                normalize_embeddings=self.normalize,
                convert_to_numpy=True,
                show_progress_bar=self.verbose,
            )
        return np.asarray(vectors, dtype=np.float32)

    def _fit(self, texts: list[str], y: np.ndarray) -> None:
        self.preprocessor_ = build_text_preprocessor(self.recipe, self.lang).fit(texts)
        self._load_encoder(resolve_checkpoint(self.checkpoint))
        self.head_ = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=2000)
        self.head_.fit(self.embed(texts), y)

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        return normalized(self.head_.predict_proba(self.embed(texts)))

    def _save_state(self, folder: Path) -> None:
        shipped = self.checkpoint.strip().lower() in MINILM_ALIASES  # installed with nlpops: not copied
        if not shipped:
            self.encoder_.save(str(folder / ENCODER_DIR))
        joblib.dump(self.head_, folder / HEAD_FILE)
        state = {"params": self.get_params(deep=False), "classes": [str(c) for c in self.classes_]}
        (folder / STATE_JSON).write_text(
            json.dumps({**state, "encoder_copied": not shipped}), encoding="utf-8"
        )

    @classmethod
    def _load_state(cls, folder: Path) -> SentenceLRClassifier:
        state = json.loads((folder / STATE_JSON).read_text(encoding="utf-8"))
        model = cls.from_saved_params(state["params"])
        model.classes_ = np.asarray(state["classes"])
        model.preprocessor_ = build_text_preprocessor(model.recipe, model.lang).fit(None)
        copied = state["encoder_copied"]
        model._load_encoder(str(folder / ENCODER_DIR) if copied else resolve_checkpoint(model.checkpoint))
        model.head_ = joblib.load(folder / HEAD_FILE)
        return model
