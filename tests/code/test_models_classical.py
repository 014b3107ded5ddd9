"""The classical model kinds honour the TextClassifier contract on a tiny synthetic dataset."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone

from nlpops.models import build_model, load_model_dir
from nlpops.models.classical import lr_proba

KINDS = ["vader", "tfidf_lr", "tfidf_nb", "tfidf_xgb", "fasttext"]
# Small, fast settings; the rest are the defaults.
FAST: dict[str, dict[str, Any]] = {
    "vader": {},
    "tfidf_lr": {},
    "tfidf_nb": {},
    "tfidf_xgb": {"n_estimators": 30, "min_df": 1, "min_child_samples": 3},
    "fasttext": {"max_epochs": 50, "learning_rate": 0.1, "n_jobs": 1},
}
WORDS = {
    "positive": ["love", "great", "wonderful", "awesome", "happy", "excellent"],
    "negative": ["hate", "terrible", "awful", "horrible", "sad", "worst"],
    "neutral": ["tuesday", "the table", "a number", "the report", "some paper", "the bus"],
}
TEMPLATES = ["this is {}", "{} today", "i think it is {}", "{}", "my day was {} really"]


def make_data(labels: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Every template x every sentiment word, labelled by the word's class."""
    texts, y = [], []
    for label in labels:
        for word in WORDS[label]:
            for template in TEMPLATES:
                texts.append(template.format(word))
                y.append(label)
    return texts, y


def fitted(kind: str, labels: tuple[str, ...] = ("negative", "positive")) -> Any:
    texts, y = make_data(labels)
    return build_model(kind, FAST[kind]).fit(texts, y)


@pytest.fixture(scope="module")
def binary_models() -> dict[str, Any]:
    """Fit each kind once for the tests that only read a fitted model."""
    return {kind: fitted(kind) for kind in KINDS}


@pytest.mark.parametrize("kind", KINDS)
def test_fit_predict_shapes_and_probabilities(kind: str, binary_models: dict[str, Any]) -> None:
    model = binary_models[kind]
    texts = ["i love this, wonderful", "awful, the worst", "", "   ", "🙂 ???", "line\nbreak\ttab"]
    proba = model.predict_proba(texts)
    assert proba.shape == (len(texts), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-9)
    assert (proba >= 0).all()
    assert list(model.classes_) == ["negative", "positive"]
    assert list(model.predict(texts[:2])) == ["positive", "negative"]


@pytest.mark.parametrize("kind", KINDS)
def test_single_string_input(kind: str, binary_models: dict[str, Any]) -> None:
    model = binary_models[kind]
    assert model.predict_proba("great day").shape == (1, 2)
    assert model.predict("great day")[0] in {"negative", "positive"}
    assert model.predict_proba([]).shape == (0, 2)


@pytest.mark.parametrize("kind", KINDS)
def test_save_load_identical_probabilities(kind: str, binary_models: dict[str, Any], tmp_path: Path) -> None:
    model = binary_models[kind]
    texts = ["this is great", "i hate the bus", "tuesday", ""]
    loaded = load_model_dir(model.save(tmp_path / kind))
    assert type(loaded) is type(model)
    assert list(loaded.classes_) == list(model.classes_)
    assert loaded.get_params() == model.get_params()
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts), rtol=1e-7)


@pytest.mark.parametrize("kind", KINDS)
def test_pickle_roundtrip(kind: str, binary_models: dict[str, Any]) -> None:
    model = binary_models[kind]
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(restored.predict_proba(["so happy"]), model.predict_proba(["so happy"]))
    assert copy.deepcopy(model).get_params() == model.get_params()


@pytest.mark.parametrize("kind", KINDS)
def test_clone_and_get_params(kind: str, binary_models: dict[str, Any]) -> None:
    model = binary_models[kind]
    twin = clone(model)
    assert twin.get_params() == model.get_params()
    assert not hasattr(twin, "classes_")
    twin.set_params(lang="en")
    assert twin.get_params()["lang"] == "en"


@pytest.mark.parametrize("kind", KINDS)
def test_three_classes(kind: str) -> None:
    model = fitted(kind, ("negative", "neutral", "positive"))
    assert list(model.classes_) == ["negative", "neutral", "positive"]
    proba = model.predict_proba(["wonderful and excellent", "awful, horrible", "the table"])
    assert proba.shape == (3, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-9)
    if kind != "vader":  # trained models must learn the toy data
        assert list(proba.argmax(axis=1)) == [2, 0, 1]


@pytest.mark.parametrize("kind", KINDS)
def test_unknown_param_is_named(kind: str) -> None:
    with pytest.raises(TypeError, match="bad_param"):
        build_model(kind, {"bad_param": 1})


def test_vader_rejects_other_labels_unless_calibrated() -> None:
    texts, _ = make_data(("negative", "positive"))
    y = ["a" if i % 2 else "b" for i in range(len(texts))]
    with pytest.raises(ValueError, match="negative, positive"):
        build_model("vader", {}).fit(texts, y)
    labels = [{"positive": "good", "negative": "bad"}[v] for v in make_data(("negative", "positive"))[1]]
    assert build_model("vader", {"calibrate": True}).fit(texts, labels).predict_proba("x").shape == (1, 2)


def test_vader_calibrated_is_confident_on_obvious_text() -> None:
    model = fitted("vader")
    calibrated = build_model("vader", {"calibrate": True}).fit(*make_data(("negative", "positive")))
    assert calibrated.predict("i love this, wonderful")[0] == "positive"
    assert model.predict_proba("I love it!")[0, 1] > 0.7


@pytest.mark.parametrize(("param", "value"), [("variant", "complement"), ("word_ngram_max", 1)])
def test_naive_bayes_variants(param: str, value: Any) -> None:
    model = build_model("tfidf_nb", {param: value}).fit(*make_data(("negative", "positive")))
    assert model.predict("wonderful")[0] == "positive"


@pytest.mark.parametrize("params", [{"booster": "xgboost", "max_depth": 3}, {"svd_components": 5}])
def test_boosting_options(params: dict[str, Any]) -> None:
    model = build_model("tfidf_xgb", {**FAST["tfidf_xgb"], **params})
    model.fit(*make_data(("negative", "neutral", "positive")))
    assert model.predict_proba(["awful", "happy"]).shape == (2, 3)


def test_logreg_without_char_ngrams() -> None:
    model = build_model("tfidf_lr", {"char_ngram_range": None}).fit(*make_data(("negative", "positive")))
    assert model.predict("happy")[0] == "positive"


def test_fasttext_quantized_save_load(tmp_path: Path) -> None:
    params = {**FAST["fasttext"], "quantize": True, "dim": 16}  # quantizing is slow at dim 50
    model = build_model("fasttext", params).fit(*make_data(("negative", "positive")))
    loaded = load_model_dir(model.save(tmp_path / "ftz"))
    assert (tmp_path / "ftz" / "model.ftz").is_file()
    np.testing.assert_allclose(loaded.predict_proba(["great"]), model.predict_proba(["great"]), rtol=1e-7)


def test_logreg_nb_scaling_fits_saves_and_loads(tmp_path: Path) -> None:
    data = make_data(("negative", "positive"))
    plain = build_model("tfidf_lr", {}).fit(*data)
    scaled = build_model("tfidf_lr", {"nb_scale": True}).fit(*data)
    assert scaled.predict(["so wonderful", "terrible day"]).tolist() == ["positive", "negative"]
    texts = ["happy", "the worst"]
    assert not np.allclose(scaled.predict_proba(texts), plain.predict_proba(texts))  # the ratios are used
    loaded = load_model_dir(scaled.save(tmp_path / "nb"))
    np.testing.assert_allclose(loaded.predict_proba(texts), scaled.predict_proba(texts), rtol=1e-7)


@pytest.mark.parametrize(
    ("kind", "params", "labels"),
    [
        ("tfidf_lr", {}, ("negative", "positive")),
        ("tfidf_lr", {"nb_scale": True}, ("negative", "positive")),
        ("tfidf_lr", {"char_ngram_range": None}, ("negative", "positive")),
        ("tfidf_lr", {}, ("negative", "neutral", "positive")),  # 3 classes: scikit-learn's proba
        ("tfidf_nb", {}, ("negative", "positive")),
        ("tfidf_xgb", {}, ("negative", "positive")),
    ],
)
def test_predict_shortcuts_equal_the_scikit_learn_calls(
    kind: str, params: dict[str, Any], labels: tuple[str, ...]
) -> None:
    model = build_model(kind, {**FAST[kind], **params}).fit(*make_data(labels))
    texts = ["so wonderful", "the worst day", "", "a tuesday, the table", "unseen zzz"]
    reference, fast = model.features_.transform(texts), model._features(texts)
    assert fast.format == "csr" and fast.shape == reference.shape and (fast != reference).nnz == 0
    if kind == "tfidf_lr":
        feats = reference @ model.nb_ratio_ if model.nb_ratio_ is not None else reference
        expected = model.clf_.predict_proba(feats)
        np.testing.assert_allclose(lr_proba(model.clf_, feats), expected, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(model.predict_proba(texts), expected, rtol=1e-6)  # float32 rows
    if kind == "tfidf_nb":  # scored through a Fortran-ordered copy of the log-probabilities
        assert model.clf_.feature_log_prob_.T.flags.c_contiguous
        c_ordered = copy.deepcopy(model.clf_)
        c_ordered.feature_log_prob_ = np.ascontiguousarray(c_ordered.feature_log_prob_)
        np.testing.assert_allclose(model.predict_proba(texts), c_ordered.predict_proba(reference), rtol=1e-9)


def test_logreg_nb_scaling_refuses_three_classes() -> None:
    model = build_model("tfidf_lr", {"nb_scale": True})
    with pytest.raises(ValueError, match="nb_scale needs exactly two classes, got 3"):
        model.fit(*make_data(("negative", "neutral", "positive")))


def test_fasttext_one_thread_fits_are_finite_and_identical() -> None:
    # fasttext-numpy2 leaves most of its input matrix uninitialised: before zeroed_allocations this
    # configuration raised "Encountered NaN" on 100 fits out of 100, whatever the learning rate.
    params = {**FAST["fasttext"], "dim": 16, "word_ngrams": 1}
    data = make_data(("negative", "positive"))
    first, second = (build_model("fasttext", params).fit(*data) for _ in range(2))
    assert first.learning_rate_used_ == second.learning_rate_used_ == 0.1  # no retry was needed
    texts = ["so wonderful", "the worst day", "i think it is sad"]
    np.testing.assert_array_equal(first.predict_proba(texts), second.predict_proba(texts))
    assert first.predict(texts).tolist() == ["positive", "negative", "negative"]


def test_fasttext_retries_a_diverged_run_at_half_the_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    import fasttext

    real, rates = fasttext.train_supervised, []

    def diverge_twice(**kwargs: object) -> object:
        rates.append(kwargs["lr"])
        if len(rates) < 3:
            raise RuntimeError("Encountered NaN.")
        return real(**kwargs)

    monkeypatch.setattr(fasttext, "train_supervised", diverge_twice)
    model = build_model("fasttext", FAST["fasttext"]).fit(*make_data(("negative", "positive")))
    assert rates == [0.1, 0.05, 0.025] and model.learning_rate_used_ == 0.025

    def always_diverge(**kwargs: object) -> object:
        raise RuntimeError("Encountered NaN.")

    monkeypatch.setattr(fasttext, "train_supervised", always_diverge)
    with pytest.raises(RuntimeError, match=r"Encountered NaN.*lower learning_rate \(last tried 0.025\)"):
        build_model("fasttext", FAST["fasttext"]).fit(*make_data(("negative", "positive")))
