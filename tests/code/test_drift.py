"""Drift statistics on planted shifts (length, vocabulary, class mix, language) and on no shift: the
false-positive rate at the chosen threshold stays at zero on held-out rows of the training data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nlpops.drift import MIN_CURRENT, Profile, build_profile, compare, psi
from nlpops.models.classical import TfidfLogReg

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "sentiment140_sample.csv"


@pytest.fixture(scope="module")
def fitted() -> tuple[TfidfLogReg, Profile, pd.DataFrame]:
    data = pd.read_csv(SAMPLE).dropna(subset=["text", "label"]).sample(frac=1.0, random_state=0)
    train, val, rest = data.iloc[:6000], data.iloc[6000:8000], data.iloc[8000:]
    model = TfidfLogReg(char_ngram_range=None).fit(train["text"].tolist(), train["label"].tolist())
    return model, build_profile(model, train["text"].tolist(), val["text"].tolist()), rest


def drifted(report: object) -> set[str]:
    return {f.feature for f in report.features if f.drifted}  # type: ignore[attr-defined]


def test_no_shift_raises_no_alarm(fitted: tuple[TfidfLogReg, Profile, pd.DataFrame]) -> None:
    model, profile, rest = fitted
    alarms = sum(
        bool(compare(profile, model, rest["text"].sample(300, random_state=seed).tolist()).drift_detected)
        for seed in range(40)
    )
    assert alarms == 0, f"{alarms} false alarms in 40 unshifted samples"


def test_longer_texts_drift_on_length(fitted: tuple[TfidfLogReg, Profile, pd.DataFrame]) -> None:
    model, profile, rest = fitted
    texts = [f"{t} {t} {t}" for t in rest["text"].head(300)]  # same words, three times longer
    report = compare(profile, model, texts)
    assert report.drift_detected and "length" in drifted(report) and "oov_rate" not in drifted(report)


def test_new_vocabulary_drifts_on_oov(fitted: tuple[TfidfLogReg, Profile, pd.DataFrame]) -> None:
    model, profile, rest = fitted
    rng = np.random.default_rng(0)
    jargon = [f"zq{''.join(rng.choice(list('xvkjw'), 6))}" for _ in range(400)]
    texts = [f"{t.split()[0]} {' '.join(rng.choice(jargon, 6))}" for t in rest["text"].head(300)]
    assert "oov_rate" in drifted(compare(profile, model, texts))


def test_a_class_mix_shift_drifts_on_predicted_class(
    fitted: tuple[TfidfLogReg, Profile, pd.DataFrame],
) -> None:
    model, profile, rest = fitted
    negative = rest[rest["label"] == "negative"]["text"].head(300).tolist()
    report = compare(profile, model, negative)
    assert "predicted_class" in drifted(report) and "length" not in drifted(report)


def test_french_drifts_on_language(fitted: tuple[TfidfLogReg, Profile, pd.DataFrame]) -> None:
    model, profile, _ = fitted
    texts = [f"le vol {i} est en retard et je ne suis pas content de la compagnie" for i in range(200)]
    assert "language" in drifted(compare(profile, model, texts))


def test_too_few_texts_give_no_verdict(fitted: tuple[TfidfLogReg, Profile, pd.DataFrame]) -> None:
    model, profile, rest = fitted
    report = compare(profile, model, rest["text"].head(MIN_CURRENT - 1).tolist())
    assert report.drift_detected is None and "at least" in report.reason


def test_the_profile_round_trips_through_json(
    tmp_path: Path, fitted: tuple[TfidfLogReg, Profile, pd.DataFrame]
) -> None:
    _, profile, _ = fitted
    profile.save(tmp_path)
    assert Profile.load(tmp_path).to_json() == profile.to_json()
    with pytest.raises(FileNotFoundError, match="--reference"):
        Profile.load(tmp_path / "elsewhere")


def test_psi_is_zero_on_equal_and_grows_with_the_shift() -> None:
    assert psi([10, 20, 30], [20, 40, 60]) == pytest.approx(0.0)
    assert 0 < psi([50, 50], [60, 40]) < psi([50, 50], [80, 20]) < psi([50, 50], [99, 1])
