"""Gradient boosting (LightGBM or XGBoost) on TF-IDF features, optionally reduced by TruncatedSVD."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from scipy import sparse
from sklearn.decomposition import TruncatedSVD

from nlpops.errors import ParameterError
from nlpops.models.classical import _TfidfModel, normalized, word_tfidf


class TfidfBoosting(_TfidfModel):
    """Word n-gram TF-IDF (optionally reduced by TruncatedSVD), then LightGBM or XGBoost.

    Args:
        recipe (str | list[Any]): ``nlpops.text`` preprocessing recipe.
        lang (str): language code for the recipe.
        booster (str): "lightgbm" or "xgboost".
        svd_components (int | None): TruncatedSVD size; None feeds the sparse TF-IDF directly.
        n_estimators (int): boosting rounds.
        learning_rate (float): shrinkage.
        max_depth (int): tree depth (-1 = unlimited for LightGBM; XGBoost needs > 0).
        num_leaves (int): LightGBM leaves per tree.
        min_child_samples (int): LightGBM's minimum texts per leaf (lower it for tiny data).
        max_bin (int): histogram bins per feature; TF-IDF needs few, and few are fast.
        word_ngram_max (int): longest word n-gram.
        min_df (int | float): minimum document frequency.
        max_features (int | None): vocabulary cap (keeps training fast).
        n_jobs (int): threads.
        random_state (int): seed of the SVD and the booster.
    """

    def __init__(
        self,
        recipe: str | list[Any] = "minimal",
        lang: str = "en",
        booster: Literal["lightgbm", "xgboost"] = "lightgbm",
        svd_components: int | None = None,
        n_estimators: int = 300,
        learning_rate: float = 0.2,
        max_depth: int = -1,
        num_leaves: int = 31,
        min_child_samples: int = 20,
        max_bin: int = 15,
        word_ngram_max: int = 2,
        min_df: int | float = 3,
        max_features: int | None = 10_000,
        n_jobs: int = 2,
        random_state: int = 0,
    ) -> None:
        self.recipe = recipe
        self.lang = lang
        self.booster = booster
        self.svd_components = svd_components
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.max_bin = max_bin
        self.word_ngram_max = word_ngram_max
        self.min_df = min_df
        self.max_features = max_features
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _vectorizer(self) -> Any:
        return word_tfidf(self.word_ngram_max, self.min_df, self.max_features, sublinear_tf=True)

    def _classifier(self) -> Any:
        if self.booster == "lightgbm":
            from lightgbm import LGBMClassifier

            return LGBMClassifier(
                n_estimators=self.n_estimators,
                learning_rate=self.learning_rate,
                max_depth=self.max_depth,
                num_leaves=self.num_leaves,
                min_child_samples=self.min_child_samples,
                max_bin=self.max_bin,
                n_jobs=self.n_jobs,
                random_state=self.random_state,
                verbose=-1,
            )
        if self.booster == "xgboost":
            from xgboost import XGBClassifier

            return XGBClassifier(
                n_estimators=self.n_estimators,
                learning_rate=self.learning_rate,
                max_depth=self.max_depth if self.max_depth > 0 else 6,
                n_jobs=self.n_jobs,
                random_state=self.random_state,
                tree_method="hist",
                max_bin=self.max_bin,
            )
        raise ParameterError(f"booster must be 'lightgbm' or 'xgboost', got {self.booster!r}")

    def _reduce(self, feats: sparse.csr_matrix) -> Any:
        reduced = feats if self.svd_ is None else self.svd_.transform(feats)
        return reduced.astype(np.float32)

    def _fit(self, texts: list[str], y: np.ndarray) -> None:
        feats = self._fit_features(texts)
        self.svd_: TruncatedSVD | None = None
        if self.svd_components:
            # SVD needs fewer components than features; tiny vocabularies clamp it.
            n = max(1, min(self.svd_components, feats.shape[1] - 1))
            self.svd_ = TruncatedSVD(n_components=n, random_state=self.random_state).fit(feats)
        self.clf_ = self._classifier().fit(self._reduce(feats), y)

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        return normalized(self.clf_.predict_proba(self._reduce(self._features(texts))))
