"""VADER: a lexicon-and-rules sentiment baseline that needs no training on text.

Probabilities come from VADER's compound score ``c`` in [-1, 1]:

* binary (negative, positive): ``p(positive) = sigmoid(c / temperature)``;
* three classes (negative, neutral, positive): a softmax over the logits
  ``[-c, 2 * neutral_band - |c|, c] / temperature``, so that neutral wins exactly when
  ``|c| < neutral_band`` (VADER's own convention uses 0.05). VADER's neg/neu/pos shares are
  not used: ``neu`` is the share of neutral words and dominates almost every text.

With ``calibrate=True``, ``fit`` instead learns a small logistic regression on ``(c, |c|)``,
which lowers the log loss and accepts any label set.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from nlpops.errors import DataError
from nlpops.models.base import TextClassifier, softmax
from nlpops.models.classical import build_text_preprocessor

LABEL_SETS = ({"negative", "positive"}, {"negative", "neutral", "positive"})


@lru_cache(maxsize=1)
def _analyzer() -> Any:
    """One shared analyzer (loading the lexicon takes a moment; it is never pickled)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def compound_scores(texts: list[str]) -> np.ndarray:
    """VADER's compound score of each text, in [-1, 1]."""
    analyzer = _analyzer()
    return np.array([analyzer.polarity_scores(t)["compound"] for t in texts], dtype=float)


class VaderClassifier(TextClassifier):
    """VADER baseline on the label sets {negative, positive} or {negative, neutral, positive}.

    Args:
        temperature (float): divides the compound score; lower = more confident.
        neutral_band (float): |compound| under which a text is neutral (three classes).
        calibrate (bool): learn a logistic regression on (compound, |compound|) in ``fit``.
        recipe (str | list[Any]): ``nlpops.text`` recipe; "none" (default) feeds VADER the raw
            text, which it prefers (capitals, "!!!" and emoticons carry sentiment).
        lang (str): language code for the recipe (VADER itself is English only).

    >>> clf = VaderClassifier().fit(["great", "awful"], ["positive", "negative"])
    >>> str(clf.predict("I love it")[0])
    'positive'
    """

    def __init__(
        self,
        temperature: float = 0.3,
        neutral_band: float = 0.05,
        calibrate: bool = False,
        recipe: str | list[Any] = "none",
        lang: str = "en",
    ) -> None:
        self.temperature = temperature
        self.neutral_band = neutral_band
        self.calibrate = calibrate
        self.recipe = recipe
        self.lang = lang

    def _scores(self, texts: list[str]) -> np.ndarray:
        return compound_scores(list(self.preprocessor_.transform(texts)))

    def _fit(self, texts: list[str], y: np.ndarray) -> None:
        labels = {str(c) for c in self.classes_}
        if not self.calibrate and labels not in LABEL_SETS:
            raise DataError(
                f"VaderClassifier needs the labels {{negative, positive}} or {{negative, neutral, positive}}"
                f" (or calibrate=True), got {sorted(labels)}"
            )
        self.preprocessor_ = build_text_preprocessor(self.recipe, self.lang).fit(texts)
        self.calibrator_: LogisticRegression | None = None
        if self.calibrate:
            c = self._scores(texts)
            self.calibrator_ = LogisticRegression().fit(np.column_stack([c, np.abs(c)]), y)

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        c = self._scores(texts)
        if self.calibrator_ is not None:
            return np.asarray(self.calibrator_.predict_proba(np.column_stack([c, np.abs(c)])))
        if len(self.classes_) == 2:
            p_pos = 1.0 / (1.0 + np.exp(-c / self.temperature))
            return np.column_stack([1.0 - p_pos, p_pos])
        # classes_ is sorted: negative, neutral, positive
        logits = np.column_stack([-c, 2 * self.neutral_band - np.abs(c), c])
        return softmax(logits / self.temperature)
