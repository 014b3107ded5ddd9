"""Model kinds, looked up by name: every one is a :class:`TextClassifier` on raw text."""

from nlpops.models.base import TextClassifier, as_texts, load_model_dir
from nlpops.models.registry import MODEL_KINDS, build_model, register

__all__ = ["MODEL_KINDS", "TextClassifier", "as_texts", "build_model", "load_model_dir", "register"]
