"""Stacking: the final model learns from predictions on texts the members did not see."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nlpops.models import build_model, load_model_dir

GOOD = [
    "great flight, thanks",
    "lovely crew and smooth trip",
    "awesome service, love it",
    "so happy, perfect",
]
BAD = ["worst flight ever", "delayed again, awful", "rude crew, terrible", "lost my bag, hate it"]
TEXTS, LABELS = (GOOD + BAD) * 4, (["positive"] * 4 + ["negative"] * 4) * 4
MEMBERS = [{"kind": "tfidf_lr"}, {"kind": "tfidf_nb"}]


@pytest.mark.parametrize("cv", [3, 0.25])
def test_stack_fits_saves_and_reloads(cv: int | float, tmp_path: Path) -> None:
    stack = build_model("stack", {"members": MEMBERS, "cv": cv}).fit(TEXTS, LABELS)
    assert stack.predict(["awful, rude and delayed", "perfect crew, love it"]).tolist() == [
        "negative",
        "positive",
    ]
    again = load_model_dir(stack.save(tmp_path / "m"))
    probe = ["awful and delayed", "lovely trip"]
    np.testing.assert_allclose(stack.predict_proba(probe), again.predict_proba(probe))


def test_stack_learns_to_ignore_a_member_that_only_guesses() -> None:
    rng = np.random.default_rng(0)
    labels = rng.choice(["negative", "positive"], size=120).tolist()
    texts = [f"{'alpha' if y == 'negative' else 'beta'} {rng.integers(1000)}" for y in labels]
    members = [{"kind": "tfidf_lr"}, {"kind": "vader", "recipe": "none"}]  # no sentiment word: vader guesses
    stack = build_model("stack", {"members": members, "cv": 4}).fit(texts, labels)
    weights = np.abs(stack.final_.coef_[0])
    assert weights[:2].sum() > 0.5 and weights[2:].sum() < 0.05  # tfidf_lr's log-probabilities decide
    assert stack.predict(["alpha 5", "beta 7"]).tolist() == ["negative", "positive"]


@pytest.mark.parametrize("cv", [1, 0, 1.5, True])
def test_stack_rejects_a_bad_cv(cv: object) -> None:
    with pytest.raises(ValueError, match="cv must be"):
        build_model("stack", {"members": MEMBERS, "cv": cv}).fit(TEXTS, LABELS)
