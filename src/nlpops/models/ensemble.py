"""Soft voting: the weighted mean of several models' probabilities.

Models that see the text differently (TF-IDF on lemmas, TF-IDF on raw tokens, averaged word
vectors) make different mistakes, so their mean ranks better than each: on dissidentIA,
5-fold cross-validated ROC AUC 0.808 for three members against 0.797 for the best one.
Each member is saved in its own folder in its own format, so any kind can be a member.

>>> from nlpops.models import build_model
>>> vote = build_model("soft_vote", {"members": [{"kind": "tfidf_lr"}, {"kind": "tfidf_nb"}]})
>>> vote.fit(["good", "bad"] * 5, ["pos", "neg"] * 5).predict(["so good"]).tolist()
['pos']
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import numpy as np

from nlpops.errors import ModelFileError, ParameterError
from nlpops.models.base import STATE_FILE, TextClassifier, load_model_dir


class SoftVoting(TextClassifier):
    """Average the class probabilities of ``members``.

    Args:
        members (list[dict[str, Any]] | None): model specs, ``{"kind": ..., **params}`` as in a config.
        weights (list[float] | None): one weight per member (default: equal).
    """

    def __init__(
        self, members: list[dict[str, Any]] | None = None, weights: list[float] | None = None
    ) -> None:
        self.members = members
        self.weights = weights

    def _specs(self) -> list[dict[str, Any]]:
        specs = list(self.members or [])
        if not specs or any(not isinstance(s, dict) or "kind" not in s for s in specs):
            raise ParameterError(
                f"soft_vote needs members, a list of {{kind: ..., params}}; got {self.members!r}"
            )
        if self.weights is not None and len(self.weights) != len(specs):
            raise ParameterError(f"soft_vote: {len(self.weights)} weights for {len(specs)} members")
        return specs

    def _fit(self, texts: list[str], y: np.ndarray) -> None:
        from nlpops.models.registry import build_model

        labels = self.classes_[y]
        self.members_ = []
        for spec in self._specs():
            params = {k: v for k, v in spec.items() if k != "kind"}
            member = build_model(spec["kind"], params).fit(texts, labels)
            self.members_.append(member)

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        weights = np.asarray(self.weights or [1.0] * len(self.members_), dtype=float)
        total = sum(w * m.predict_proba(texts) for w, m in zip(weights, self.members_, strict=True))
        return np.asarray(total) / weights.sum()  # members share the sorted label set: same columns

    # --- persistence: each member in its own folder and format ------------------------------------
    def _save_state(self, folder: Path) -> None:
        members = self.__dict__.pop("members_", [])
        try:
            joblib.dump(self, folder / STATE_FILE, compress=3)
        finally:
            self.members_ = members
        for i, member in enumerate(members):
            member.save(folder / f"member_{i}")

    @classmethod
    def _load_state(cls, folder: Path) -> TextClassifier:
        model = joblib.load(folder / STATE_FILE)
        if not isinstance(model, SoftVoting):
            raise ModelFileError(f"{folder / STATE_FILE} does not hold a soft_vote model")
        model.members_ = [load_model_dir(folder / f"member_{i}") for i in range(len(model._specs()))]
        return model
