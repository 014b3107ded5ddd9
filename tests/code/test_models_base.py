"""The shared estimator contract: input coercion, label handling, registry errors, folder loading."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nlpops.models import MODEL_KINDS, as_texts, build_model, load_model_dir, register
from nlpops.models.base import TextClassifier


class Majority(TextClassifier):
    """Predicts the training class frequencies for every text."""

    def __init__(self, smoothing: float = 0.0) -> None:
        self.smoothing = smoothing

    def _fit(self, texts: list[str], y: np.ndarray) -> None:
        counts = np.bincount(y, minlength=len(self.classes_)) + self.smoothing
        self.prior_ = counts / counts.sum()

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        return np.tile(self.prior_, (len(texts), 1))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("one", ["one"]),
        (["a", None, float("nan"), 3], ["a", "", "", "3"]),
        (pd.Series(["x", "y"]), ["x", "y"]),
        (pd.DataFrame({"text": ["x"]}), ["x"]),
        (np.array(["p", "q"]), ["p", "q"]),
    ],
)
def test_as_texts(given: object, expected: list[str]) -> None:
    assert as_texts(given) == expected  # type: ignore[arg-type]


def test_labels_become_sorted_strings_and_multiclass_works() -> None:
    model = Majority().fit(["a", "b", "c", "d"], [2, 0, 1, 1])
    assert list(model.classes_) == ["0", "1", "2"]
    np.testing.assert_allclose(model.predict_proba("x"), [[0.25, 0.5, 0.25]])
    assert model.predict(["x", "y"]).tolist() == ["1", "1"]
    assert model.predict_proba([]).shape == (0, 3)


@pytest.mark.parametrize(
    ("texts", "labels", "needle"),
    [(["a"], ["x", "y"], "1 texts but 2 labels"), (["a", "b"], ["x", "x"], "two classes")],
)
def test_fit_rejects_bad_labels(texts: list[str], labels: list[str], needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        Majority().fit(texts, labels)


def test_save_load_round_trip_via_folder(tmp_path: Path) -> None:
    model = Majority(smoothing=1.0).fit(["a", "b", "c"], ["x", "y", "y"])
    folder = model.save(tmp_path / "m")
    again = load_model_dir(folder)
    assert isinstance(again, Majority) and again.smoothing == 1.0
    np.testing.assert_allclose(again.predict_proba(["q"]), model.predict_proba(["q"]))
    assert isinstance(TextClassifier.load(folder), Majority)


def test_load_rejects_a_folder_that_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not an nlpops model folder"):
        load_model_dir(tmp_path)


def test_registry_errors_name_the_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(KeyError, match=r"unknown model kind 'nope'.*tfidf_lr"):
        build_model("nope")
    monkeypatch.setitem(MODEL_KINDS, "majority", Majority)
    with pytest.raises(TypeError, match=r"no parameter\(s\) \['alpha'\]"):
        build_model("majority", {"alpha": 1})
    register("majority", Majority)
    assert build_model("majority", {"smoothing": 2.0}).smoothing == 2.0
