"""Averaged word vectors (spaCy's, e.g. ``fr_core_news_md``, or a gensim file) + logistic regression.

A text is the IDF-weighted mean of its words' vectors (stop words and punctuation skipped,
negations kept), then standardised and fed to a class-weighted logistic regression. The spaCy
pipeline is loaded lazily (tokenizer and vectors only) and never pickled: a saved model holds
the pipeline's name, the IDF table, the scaler and the regression, and reloads spaCy on use.

``vectors_path`` swaps spaCy's vectors for a word2vec / fastText file, e.g. vectors trained on
unlabelled answers of the same domain (``bench/bench_dissidentia.py`` trains some): the
semi-supervised option.

Usage (not run as a doctest: it needs a model or data file)::

    clf = SpacyVectorsLogReg(spacy_model="fr_core_news_md")
    clf.fit(["L'État est corrompu !", "Il faut simplifier les démarches."] * 5,
            ["dissident", "non dissident"] * 5).predict(["Les élus sont des voleurs"])
"""

from __future__ import annotations

import math
from collections import Counter
from functools import lru_cache
from typing import Any, Literal

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from nlpops.errors import ParameterError
from nlpops.models.base import TextClassifier
from nlpops.models.classical import normalized
from nlpops.text.sentences import sentence_pipeline


@lru_cache(maxsize=2)
def _gensim_vectors(path: str) -> Any:
    from nlpops.models.deep.vectors import load_vectors

    return load_vectors(path)


class SpacyVectorsLogReg(TextClassifier):
    """IDF-weighted mean of word vectors, then logistic regression.

    Args:
        spacy_model (str): spaCy package giving the tokenizer and (unless ``vectors_path``) the
            vectors: ``fr_core_news_md``, ``en_core_web_md``…
        vectors_path (str | None): a word2vec / fastText / GloVe file to use instead of spaCy's vectors.
        weighting (str): ``"idf"`` (rare words weigh more) or ``"mean"`` (plain average).
        keep_stopwords (bool): also average stop words (negations are always kept).
        C (float): inverse regularisation strength.
        class_weight (str | None): ``"balanced"`` (default: minority classes weigh more) or None.
        max_iter (int): lbfgs iterations.
    """

    def __init__(
        self,
        spacy_model: str = "fr_core_news_md",
        vectors_path: str | None = None,
        weighting: Literal["idf", "mean"] = "idf",
        keep_stopwords: bool = False,
        C: float = 0.1,
        class_weight: Literal["balanced"] | None = "balanced",
        max_iter: int = 2000,
    ) -> None:
        self.spacy_model = spacy_model
        self.vectors_path = vectors_path
        self.weighting = weighting
        self.keep_stopwords = keep_stopwords
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter

    # --- text -> words -> vectors -------------------------------------------------------------
    def words(self, text: str) -> list[str]:
        """The lower-cased words that count: no punctuation, spaces or numbers; stop words per setting."""
        from nlpops.text.lexical import NEGATIONS

        nlp = sentence_pipeline(self.spacy_model)
        negations = NEGATIONS.get(nlp.lang, frozenset())
        out = []
        for tok in nlp.make_doc(text):
            word = tok.lower_
            if tok.is_punct or tok.is_space or tok.like_num or not any(c.isalpha() for c in word):
                continue
            if tok.is_stop and not self.keep_stopwords and word not in negations:
                continue
            out.append(word)
        return out

    def _vector(self, word: str) -> np.ndarray | None:
        """The word's vector, or None when the vectors do not know it."""
        if self.vectors_path is not None:
            kv = _gensim_vectors(self.vectors_path)
            return kv[word] if word in kv.key_to_index or hasattr(kv, "vectors_ngrams") else None
        vocab = sentence_pipeline(self.spacy_model).vocab
        return vocab.get_vector(word) if vocab.has_vector(word) else None

    def _dim(self) -> int:
        if self.vectors_path is not None:
            return int(_gensim_vectors(self.vectors_path).vector_size)
        return int(sentence_pipeline(self.spacy_model).vocab.vectors.shape[1])

    def _weight(self, word: str) -> float:
        return self.idf_.get(word, self.idf_unseen_) if self.weighting == "idf" else 1.0

    def embed(self, texts: list[str]) -> np.ndarray:
        """One row per text: the weighted mean of its known words' vectors (zeros if none)."""
        out = np.zeros((len(texts), self._dim()), dtype=np.float32)
        cache: dict[str, np.ndarray | None] = {}
        for i, text in enumerate(texts):
            total, weight_sum = np.zeros(out.shape[1], dtype=np.float32), 0.0
            for word in self.words(text):
                if word not in cache:
                    cache[word] = self._vector(word)
                vec = cache[word]
                if vec is not None:
                    weight = self._weight(word)
                    total += weight * vec
                    weight_sum += weight
            if weight_sum:
                out[i] = total / weight_sum
        return out

    # --- estimator --------------------------------------------------------------------------------
    def _fit(self, texts: list[str], y: np.ndarray) -> None:
        if self.weighting not in ("idf", "mean"):
            raise ParameterError(f"weighting must be 'idf' or 'mean', got {self.weighting!r}")
        df = Counter(w for t in texts for w in set(self.words(t)))
        n = len(texts)
        self.idf_ = {w: math.log((1 + n) / (1 + c)) + 1 for w, c in df.items()}
        self.idf_unseen_ = math.log(1 + n) + 1
        feats = self.embed(texts)
        self.scaler_ = StandardScaler().fit(feats)
        self.clf_ = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter)
        self.clf_.fit(self.scaler_.transform(feats), y)

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        return normalized(self.clf_.predict_proba(self.scaler_.transform(self.embed(texts))))
