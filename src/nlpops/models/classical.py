"""TF-IDF models: logistic regression, naive Bayes and gradient boosting on raw text.

Each model is one fitted ``features_`` pipeline (the ``nlpops.text`` preprocessor, then
TF-IDF) followed by one classifier ``clf_``; both are pickled with the model, so the
preprocessing recipe travels with it.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from scipy import sparse
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import ComplementNB, MultinomialNB
from sklearn.pipeline import FeatureUnion, Pipeline

from nlpops.models.base import TextClassifier

# The preprocessor returns space-joined tokens: split on spaces only, keep ":)" and "!".
TOKEN_PATTERN = r"(?u)\S+"


def build_text_preprocessor(recipe: str | list[Any], lang: str) -> Any:
    """The ``nlpops.text`` preprocessor for ``recipe`` (imported late: spaCy is heavy).

    Args:
        recipe (str | list[Any]): a recipe name ("none", "minimal", "stem", "lemma") or steps.
        lang (str): the language code, e.g. "en".

    Returns:
        Any: an unfitted, picklable scikit-learn transformer, ``list[str] -> list[str]``.
    """
    from nlpops.text import build_preprocessor

    return build_preprocessor(recipe, lang=lang)


def normalized(proba: Any) -> np.ndarray:
    """Probabilities as float64 rows that sum to exactly 1 (float32 features drift)."""
    p = np.asarray(proba, dtype=np.float64)
    return p / p.sum(axis=1, keepdims=True)


def word_tfidf(ngram_max: int, min_df: int | float, max_features: int | None, sublinear_tf: bool) -> Any:
    """A word 1..``ngram_max``-gram TF-IDF vectorizer over preprocessed tokens."""
    return TfidfVectorizer(
        analyzer="word",
        token_pattern=TOKEN_PATTERN,
        lowercase=False,  # casing is the recipe's decision
        ngram_range=(1, ngram_max),
        min_df=min_df,
        max_features=max_features,
        sublinear_tf=sublinear_tf,
        dtype=np.float32,
    )


def char_tfidf(
    ngram_range: tuple[int, int] | list[int], min_df: int | float, max_features: int | None
) -> Any:
    """A ``char_wb`` TF-IDF vectorizer (n-grams inside word boundaries)."""
    low, high = ngram_range
    return TfidfVectorizer(
        analyzer="char_wb",
        lowercase=False,
        ngram_range=(int(low), int(high)),
        min_df=min_df,
        max_features=max_features,
        sublinear_tf=True,
        dtype=np.float32,
    )


class _TfidfModel(TextClassifier):
    """Shared machinery: ``features_`` (preprocess → TF-IDF) then ``clf_``."""

    recipe: str | list[Any]
    lang: str

    def _vectorizer(self) -> Any:
        raise NotImplementedError

    def _classifier(self) -> Any:
        raise NotImplementedError

    def _fit_features(self, texts: list[str]) -> sparse.csr_matrix:
        prep = build_text_preprocessor(self.recipe, self.lang)
        self.features_ = Pipeline([("prep", prep), ("tfidf", self._vectorizer())])
        return self.features_.fit_transform(texts)

    def _fit(self, texts: list[str], y: np.ndarray) -> None:
        feats = self._fit_features(texts)
        self.clf_ = self._classifier().fit(feats, y)

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        return normalized(self.clf_.predict_proba(self.features_.transform(texts)))


class TfidfLogReg(_TfidfModel):
    """Word 1–2-gram + ``char_wb`` 2–5-gram TF-IDF, then logistic regression.

    Args:
        recipe (str | list[Any]): ``nlpops.text`` preprocessing recipe.
        lang (str): language code for the recipe.
        word_ngram_max (int): longest word n-gram.
        char_ngram_range (tuple[int, int] | None): char_wb n-gram range; None disables them.
        min_df (int | float): minimum document frequency (both vectorizers).
        max_features (int | None): vocabulary cap of each vectorizer.
        sublinear_tf (bool): use 1 + log(tf) for word counts.
        C (float): inverse regularisation strength.
        class_weight (str | None): None or "balanced".
        max_iter (int): lbfgs iterations.
    """

    def __init__(
        self,
        recipe: str | list[Any] = "minimal",
        lang: str = "en",
        word_ngram_max: int = 2,
        char_ngram_range: tuple[int, int] | None = (2, 5),
        min_df: int | float = 2,
        max_features: int | None = 300_000,
        sublinear_tf: bool = True,
        C: float = 2.0,
        class_weight: Literal["balanced"] | None = None,
        max_iter: int = 1000,
    ) -> None:
        self.recipe = recipe
        self.lang = lang
        self.word_ngram_max = word_ngram_max
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter

    def _vectorizer(self) -> Any:
        word = word_tfidf(self.word_ngram_max, self.min_df, self.max_features, self.sublinear_tf)
        if self.char_ngram_range is None:
            return word
        char = char_tfidf(self.char_ngram_range, self.min_df, self.max_features)
        return FeatureUnion([("word", word), ("char", char)])

    def _classifier(self) -> Any:
        return LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter)


class TfidfNaiveBayes(_TfidfModel):
    """Word n-gram TF-IDF, then multinomial or complement naive Bayes.

    Args:
        recipe (str | list[Any]): ``nlpops.text`` preprocessing recipe.
        lang (str): language code for the recipe.
        variant (str): "multinomial" or "complement" (better on skewed classes).
        alpha (float): additive smoothing.
        word_ngram_max (int): longest word n-gram.
        min_df (int | float): minimum document frequency.
        max_features (int | None): vocabulary cap.
        sublinear_tf (bool): use 1 + log(tf).
    """

    def __init__(
        self,
        recipe: str | list[Any] = "minimal",
        lang: str = "en",
        variant: Literal["multinomial", "complement"] = "multinomial",
        alpha: float = 0.1,
        word_ngram_max: int = 2,
        min_df: int | float = 1,
        max_features: int | None = 300_000,
        sublinear_tf: bool = True,
    ) -> None:
        self.recipe = recipe
        self.lang = lang
        self.variant = variant
        self.alpha = alpha
        self.word_ngram_max = word_ngram_max
        self.min_df = min_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf

    def _vectorizer(self) -> Any:
        return word_tfidf(self.word_ngram_max, self.min_df, self.max_features, self.sublinear_tf)

    def _classifier(self) -> Any:
        if self.variant == "multinomial":
            return MultinomialNB(alpha=self.alpha)
        if self.variant == "complement":
            return ComplementNB(alpha=self.alpha)
        raise ValueError(f"variant must be 'multinomial' or 'complement', got {self.variant!r}")


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
        raise ValueError(f"booster must be 'lightgbm' or 'xgboost', got {self.booster!r}")

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
        return normalized(self.clf_.predict_proba(self._reduce(self.features_.transform(texts))))
