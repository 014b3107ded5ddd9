"""Tests of nlpops.evaluate and nlpops.plots on hand-computed examples and tiny stand-in models."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.pipeline import Pipeline

from nlpops.evaluate import (
    SLICES,
    compute_metrics,
    confusion,
    evaluate_model,
    measure_latency,
    model_size_mb,
    per_class_report,
    score_model,
    slice_metrics,
)
from nlpops.plots import comparison_plots, save_plots

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
BINARY = ["a", "b"]
# p(b) = .2, .8, .7, .9 for true a, a, b, b: predictions a, b, b, b; 3 of 4 (pos, neg) pairs ranked right
KNOWN_Y = ["a", "a", "b", "b"]
KNOWN_P_B = np.array([0.2, 0.8, 0.7, 0.9])
KNOWN_PROBA = np.column_stack([1 - KNOWN_P_B, KNOWN_P_B])


class FakeModel:
    """Binary neg/pos stand-in: 'good' in the text means pos; counts its predict_proba calls."""

    classes_ = np.array(["neg", "pos"])

    def __init__(self) -> None:
        self.calls = 0

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        p_pos = np.array([0.9 if "good" in t else 0.2 for t in texts])
        return np.column_stack([1 - p_pos, p_pos])


def assert_png(path: Path) -> None:
    assert path.is_file() and path.stat().st_size > 0
    assert path.read_bytes()[:8] == PNG_MAGIC


@pytest.fixture(scope="module")
def pipeline_3class() -> tuple[Pipeline, list[str], list[str]]:
    """A fitted TF-IDF + logistic regression on three tiny classes, and its evaluation texts."""
    words = {"pos": "great lovely superb", "neg": "awful terrible not good", "neu": "ok meh average"}
    texts = [f"{w} item {i}" for i in range(8) for w in words.values()]
    labels = [c for _ in range(8) for c in words]
    model = Pipeline([("tfidf", TfidfVectorizer()), ("lr", LogisticRegression(C=10.0))])
    return model.fit(texts, labels), texts, labels


# --- compute_metrics ---------------------------------------------------------------------------------
def test_perfect_binary_predictions() -> None:
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.1, 0.9]])
    m = compute_metrics(["a", "b", "a", "b"], proba, BINARY)
    assert m["accuracy"] == 1.0 and m["macro_f1"] == 1.0
    assert m["roc_auc"] == 1.0 and m["pr_auc"] == 1.0
    assert m["n"] == 4
    assert m["log_loss"] == pytest.approx(-np.mean(np.log([0.9, 0.8, 0.6, 0.9])))
    assert m["brier"] == pytest.approx(np.mean([0.01, 0.04, 0.16, 0.01]))


def test_known_confusion_metrics() -> None:
    m = compute_metrics(KNOWN_Y, KNOWN_PROBA, BINARY)
    assert m["accuracy"] == pytest.approx(0.75)
    # a: P=1, R=.5, F1=2/3; b: P=2/3, R=1, F1=.8
    assert m["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2)
    assert m["roc_auc"] == pytest.approx(0.75)
    # b ranked .9 (b), .8 (a), .7 (b): precision 1 at the first hit, 2/3 at the second
    assert m["pr_auc"] == pytest.approx((1 + 2 / 3) / 2)
    assert m["brier"] == pytest.approx(np.mean([0.04, 0.64, 0.09, 0.01]))


def test_positive_label_chooses_the_column() -> None:
    m = compute_metrics(KNOWN_Y, KNOWN_PROBA, BINARY, positive_label="a")
    target = np.array(KNOWN_Y) == "a"
    assert m["pr_auc"] == pytest.approx(average_precision_score(target, KNOWN_PROBA[:, 0]))
    assert m["roc_auc"] == pytest.approx(0.75)
    with pytest.raises(ValueError, match="positive_label"):
        compute_metrics(KNOWN_Y, KNOWN_PROBA, BINARY, positive_label="c")


def test_multiclass_one_vs_rest_macro() -> None:
    rng = np.random.default_rng(0)
    classes = ["neg", "neu", "pos"]
    y = [classes[i] for i in rng.integers(0, 3, size=60)]
    proba = rng.dirichlet(np.ones(3), size=60)
    m = compute_metrics(y, proba, classes)
    assert m["roc_auc"] == pytest.approx(roc_auc_score(y, proba, multi_class="ovr", average="macro"))
    y_arr = np.array(y)
    expected_ap = np.mean([average_precision_score(y_arr == c, proba[:, j]) for j, c in enumerate(classes)])
    assert m["pr_auc"] == pytest.approx(expected_ap)
    assert math.isnan(m["brier"])
    assert m["accuracy"] == pytest.approx(np.mean(proba.argmax(axis=1) == [classes.index(c) for c in y]))


@pytest.mark.parametrize(
    ("y_true", "classes", "proba"),
    [
        (["b", "b", "b"], BINARY, [[0.3, 0.7], [0.6, 0.4], [0.1, 0.9]]),
        (["a", "b", "a"], ["a", "b", "c"], [[0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.5, 0.1, 0.4]]),
    ],
)
def test_absent_class_gives_nan_auc(y_true: list[str], classes: list[str], proba: list[list[float]]) -> None:
    m = compute_metrics(y_true, np.array(proba), classes)
    assert math.isnan(m["roc_auc"]) and math.isnan(m["pr_auc"])
    assert 0 <= m["accuracy"] <= 1 and m["log_loss"] > 0


def test_log_loss_is_clipped() -> None:
    m = compute_metrics(["a", "b"], np.array([[0.0, 1.0], [0.0, 1.0]]), BINARY)
    assert math.isfinite(m["log_loss"]) and m["log_loss"] > 10


@pytest.mark.parametrize(
    ("y_true", "proba", "match"),
    [
        (["a", "neutral"], [[0.5, 0.5], [0.5, 0.5]], "not in classes"),
        (["a", "b"], [[0.5, 0.5]], "shape"),
        (["a", "b"], [0.5, 0.5], "shape"),
        ([], np.zeros((0, 2)), "empty"),
    ],
)
def test_bad_inputs_raise(y_true: list[str], proba: list[float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        compute_metrics(y_true, np.array(proba), BINARY)


def test_per_class_report_and_confusion() -> None:
    y_pred = ["a", "b", "b", "b"]
    report = per_class_report(KNOWN_Y, y_pred, BINARY)
    assert list(report.index) == BINARY
    assert report.loc["a", "precision"] == pytest.approx(1.0)
    assert report.loc["a", "recall"] == pytest.approx(0.5)
    assert report.loc["b", "precision"] == pytest.approx(2 / 3)
    assert report.loc["b", "f1"] == pytest.approx(0.8)
    assert list(report["support"]) == [2, 2]
    matrix = confusion(KNOWN_Y, y_pred, BINARY)
    assert matrix.values.tolist() == [[1, 1], [0, 2]]
    assert matrix.index.name == "true" and matrix.columns.name == "predicted"


# --- slices ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("short", "one two three four five six seven", True),
        ("short", "one two three four five six seven eight", False),
        ("long", " ".join(["w"] * 25), True),
        ("long", " ".join(["w"] * 24), False),
        ("has_url", "see https://example.com/x now", True),
        ("has_url", "visit www.example.org", True),
        ("has_url", "read bit.ly/3xYz first", True),  # a bare short link is a link too
        ("has_url", "no link at all", False),
        ("has_mention", "thanks @bob!", True),
        ("has_mention", "mail me at bob@example.com", False),
        ("has_hashtag", "so fun #weekend", True),
        ("has_hashtag", "it&#39;s fine", False),
        ("negation", "I do not like it", True),
        ("negation", "I don't like it", True),
        ("negation", "I didn’t like it", True),
        ("negation", "it cannot work", True),
        ("negation", "je n'aime pas ça", True),
        ("negation", "ce n’est jamais bon", True),
        ("negation", "rien à dire", True),
        ("negation", "I like notes and nodes", False),
        ("negation", "j'aime beaucoup", False),
        ("all_caps_word", "I LOVE it", True),
        ("all_caps_word", "I love it, OK", False),
    ],
)
def test_slice_predicates(name: str, text: str, expected: bool) -> None:
    assert SLICES[name](text) is expected


def test_slice_metrics_sizes_and_small_slices() -> None:
    texts = ["not good at all"] * 6 + ["visit https://x.io"] * 2 + ["fine"] * 2
    y_true = ["a"] * 6 + ["b"] * 4
    proba = np.array([[0.9, 0.1]] * 5 + [[0.1, 0.9]] + [[0.2, 0.8]] * 4)
    y_pred = [BINARY[i] for i in proba.argmax(axis=1)]
    table = slice_metrics(texts, y_true, y_pred)
    assert list(table.index) == list(SLICES)
    assert table.loc["negation", "n"] == 6 and table.loc["negation", "share"] == pytest.approx(0.6)
    assert table.loc["negation", "accuracy"] == pytest.approx(5 / 6)
    assert table.loc["has_url", "n"] == 2 and table["accuracy"].isna()["has_url"]
    assert table.loc["short", "n"] == 10 and table.loc["short", "accuracy"] == pytest.approx(0.9)
    assert table.loc["long", "n"] == 0 and table["macro_f1"].isna()["long"]


# --- speed and size ----------------------------------------------------------------------------------
def test_measure_latency_fields_and_calls() -> None:
    model = FakeModel()
    speed = measure_latency(model, ["good", "bad"] * 20, n_single=10, batch_size=30)
    assert set(speed) == {"latency_p50_ms", "latency_p99_ms", "throughput_texts_per_s"}
    assert all(v > 0 for v in speed.values())
    assert speed["latency_p99_ms"] >= speed["latency_p50_ms"]
    assert model.calls == 5 + 10 + 2  # warm-up, single calls, two batch runs
    with pytest.raises(ValueError):
        measure_latency(model, [])


def test_model_size_mb(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.bin").write_bytes(b"x" * 2**20)
    (tmp_path / "sub" / "b.bin").write_bytes(b"x" * 2**19)
    assert model_size_mb(tmp_path) == pytest.approx(1.5)
    with pytest.raises(FileNotFoundError):
        model_size_mb(tmp_path / "missing")


# --- evaluate_model and plots ------------------------------------------------------------------------
def test_evaluate_model_skips_unknown_labels(tmp_path: Path) -> None:
    texts = ["good film", "bad film", "good", "meh", "so good", "awful"]
    labels = ["pos", "neg", "pos", "neutral", "neg", "neutral"]
    result = evaluate_model(FakeModel(), texts, labels, out_dir=tmp_path)
    assert result.n_skipped == 2 and result.metrics["n_skipped"] == 2
    assert result.metrics["n"] == 4
    assert result.metrics["accuracy"] == pytest.approx(0.75)
    assert {f"slice_{name}_accuracy" for name in SLICES} <= result.metrics.keys()
    assert result.metrics["latency_p50_ms"] > 0 and result.metrics["throughput_texts_per_s"] > 0
    assert result.confusion.values.tolist() == [[1, 1], [0, 2]]
    assert list(result.per_class.index) == ["neg", "pos"]
    assert len(result.plots) == 4
    for path in result.plots:
        assert_png(path)


def test_evaluate_model_positive_label() -> None:
    texts, labels = ["good", "good bad", "bad", "so good"], ["pos", "neg", "neg", "pos"]
    default = evaluate_model(FakeModel(), texts, labels, measure_speed=False)
    as_neg = evaluate_model(FakeModel(), texts, labels, measure_speed=False, positive_label="neg")
    p_neg = 1 - FakeModel().predict_proba(texts)[:, 1]
    expected = average_precision_score(np.array(labels) == "neg", p_neg)
    assert as_neg.metrics["pr_auc"] == pytest.approx(expected)
    assert as_neg.metrics["pr_auc"] != pytest.approx(default.metrics["pr_auc"])


def test_evaluate_model_without_known_labels_raises() -> None:
    with pytest.raises(ValueError, match="none of the"):
        evaluate_model(FakeModel(), ["x", "y"], ["neutral", "neutral"], measure_speed=False)


def test_evaluate_pipeline_multiclass(pipeline_3class: tuple[Pipeline, list[str], list[str]]) -> None:
    model, texts, labels = pipeline_3class
    result = evaluate_model(model, texts, labels, measure_speed=False)
    assert result.metrics["accuracy"] == 1.0 and result.metrics["roc_auc"] == pytest.approx(1.0)
    assert "latency_p50_ms" not in result.metrics and result.plots == []
    assert result.confusion.shape == (3, 3) and int(np.trace(result.confusion.values)) == len(texts)


def test_save_plots_multiclass(
    tmp_path: Path, pipeline_3class: tuple[Pipeline, list[str], list[str]]
) -> None:
    model, texts, labels = pipeline_3class
    paths = save_plots(labels, model.predict_proba(texts), list(model.classes_), tmp_path / "plots", "lr")
    assert [p.name for p in paths] == ["confusion_matrix.png", "calibration.png", "roc.png", "pr.png"]
    for path in paths:
        assert_png(path)


def test_comparison_plots(tmp_path: Path) -> None:
    results = pd.DataFrame(
        {
            "model": ["tfidf_lr", "fasttext", "vader"],
            "recipe": ["basic", "basic", "none"],
            "accuracy": [0.82, 0.80, 0.65],
            "macro_f1": [0.81, 0.79, 0.60],
            "latency_p50_ms": [0.4, 0.05, 0.2],
        }
    )
    paths = comparison_plots(results, tmp_path)
    assert len(paths) == 2
    for path in paths:
        assert_png(path)
    assert len(comparison_plots(results.drop(columns="latency_p50_ms"), tmp_path / "bars")) == 1
    with pytest.raises(ValueError, match="roc_auc"):
        comparison_plots(results, tmp_path, metric="roc_auc")


def test_comparison_plots_tolerates_nan_and_is_exported_by_evaluate(tmp_path: Path) -> None:
    import nlpops.evaluate

    assert nlpops.evaluate.comparison_plots is comparison_plots  # the report imports it from evaluate
    results = pd.DataFrame(
        {"run": ["lr", "lr", "nb"], "macro_f1": [0.8, np.nan, 0.7], "latency_p50_ms": [0.3, 0.2, np.nan]}
    )
    for path in comparison_plots(results, tmp_path):
        assert_png(path)


def test_score_model_skips_unknown_labels_like_evaluate_model() -> None:
    texts = ["good one", "bad one", "meh", "good again", "bad again"]
    labels = ["pos", "neg", "neutral", "pos", "pos"]
    scores = score_model(FakeModel(), texts, labels)
    assert scores["n"] == 4 and scores["accuracy"] == 0.75
    full = evaluate_model(FakeModel(), texts, labels, measure_speed=False)
    assert full.n_skipped == 1 and full.metrics["accuracy"] == scores["accuracy"]
    with pytest.raises(ValueError, match="none of the 1 labels"):
        score_model(FakeModel(), ["x"], ["neutral"])


def test_slices_use_the_models_decision_rule() -> None:
    """With a tuned threshold, the all-rows slice and the overall accuracy describe one classifier
    (the slices used to recompute argmax: overall 0.5 while the slice said 1.0)."""
    from nlpops.models.classical import TfidfLogReg

    texts = [f"good day {i}" for i in range(20)] + [f"bad day {i}" for i in range(20)]
    labels = ["pos"] * 20 + ["neg"] * 20
    model = TfidfLogReg(char_ngram_range=None).fit(texts, labels).set_threshold(0.999, "pos")
    result = evaluate_model(model, texts, labels, measure_speed=False)
    assert result.metrics["accuracy"] == pytest.approx(0.5)
    assert result.metrics["slice_short_accuracy"] == pytest.approx(result.metrics["accuracy"])
