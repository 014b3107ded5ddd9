"""One rule for the class a watch, a spike, the dashboard and drift are about (``models/target.py``)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from nlpops.models.base import load_model_dir
from nlpops.models.classical import TfidfLogReg
from nlpops.models.target import guess_target, require_target_label, target_label


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["negative", "positive"], "negative"),
        (["neg", "pos"], "neg"),
        (["NEG", "POS"], "NEG"),
        (["positive", "neutral", "Negative"], "Negative"),
        (["satisfait", "insatisfait"], "insatisfait"),
        (["dissident", "non dissident"], "dissident"),  # the French model: the live monitor missed it
        (["negative_tweet", "other"], "negative_tweet"),
        (["spam", "ham"], None),
        ([], None),
    ],
)
def test_guess_target(labels: list[str], expected: str | None) -> None:
    assert guess_target(labels) == expected


def test_a_named_label_wins_and_must_be_a_class() -> None:
    model = SimpleNamespace(classes_=["0", "4"], target_label_=None)
    assert target_label(model, "0") == "0" and target_label(model) is None
    with pytest.raises(ValueError, match="--negative-label"):
        require_target_label(model)
    with pytest.raises(ValueError, match="'bad'"):
        require_target_label(SimpleNamespace(classes_=["negative", "positive"]), "bad")


def test_the_saved_label_wins_over_names_and_survives_save_load(tmp_path: Path) -> None:
    model = TfidfLogReg(char_ngram_range=None).fit(["spam me", "ham here"] * 5, ["spam", "ham"] * 5)
    assert target_label(model) is None
    model.target_label_ = "spam"
    loaded = load_model_dir(model.save(tmp_path / "m"))
    assert target_label(loaded) == "spam"
