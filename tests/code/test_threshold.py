"""A decision threshold tuned on validation lives in the model: predict, evaluate, save/load, train."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nlpops.config import ConfigError, load_config
from nlpops.evaluate import compute_metrics, evaluate_model, score_model
from nlpops.models import load_model_dir
from nlpops.models.base import META_FILE, TextClassifier, best_f1_threshold
from nlpops.tracking import predictions_frame


class Score(TextClassifier):
    """P(class "yes") is the number of "!" in the text / 10; saved natively (no pickle of self)."""

    def _fit(self, texts: list[str], y: np.ndarray) -> None:
        self.fitted_ = True

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        p = np.asarray([min(t.count("!"), 10) / 10 for t in texts])
        return np.column_stack([1 - p, p])  # classes_ = ["no", "yes"]

    def _save_state(self, folder: Path) -> None:
        (folder / "classes.json").write_text(json.dumps([str(c) for c in self.classes_]))

    @classmethod
    def _load_state(cls, folder: Path) -> TextClassifier:
        model = cls()
        model.classes_ = np.asarray(json.loads((folder / "classes.json").read_text()))
        return model


TEXTS = ["a", "b!", "c!!", "d!!!", "e!!!!", "f!!!!!"]
LABELS = ["no", "no", "yes", "yes", "yes", "yes"]


def test_argmax_until_a_threshold_is_set_then_the_threshold() -> None:
    model = Score().fit(TEXTS, LABELS)
    assert model.predict(TEXTS).tolist() == ["no"] * 6  # every P(yes) < 0.5
    assert model.tune_threshold(TEXTS, LABELS, "yes") == pytest.approx(0.15)  # between 0.1 and 0.2
    assert model.predict(TEXTS).tolist() == LABELS
    assert score_model(model, TEXTS, LABELS, "yes")["positive_f1"] == 1.0
    assert predictions_frame(model, ["x!!"])["label"].tolist() == ["yes"]
    model.fit(TEXTS, LABELS)  # a new fit forgets the old threshold
    assert model.decision_threshold_ is None and model.predict(["x!!"]).tolist() == ["no"]


def test_threshold_survives_save_and_load_even_with_a_native_format(tmp_path: Path) -> None:
    model = Score().fit(TEXTS, LABELS).set_threshold(0.25, "yes")
    folder = model.save(tmp_path / "m")
    assert json.loads((folder / META_FILE).read_text())["decision_threshold"] == 0.25
    loaded = load_model_dir(folder)
    assert (loaded.decision_threshold_, loaded.positive_label_) == (0.25, "yes")
    assert loaded.predict(["x!!", "x!"]).tolist() == ["no", "no"] and loaded.predict("x!!!")[0] == "yes"


def test_bad_thresholds_are_refused() -> None:
    model = Score().fit(TEXTS, LABELS)
    with pytest.raises(ValueError, match="binary model and one of its classes"):
        model.set_threshold(0.5, "maybe")
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        model.set_threshold(1.5, "yes")
    with pytest.raises(ValueError, match="both positive and negative"):
        best_f1_threshold([True, True], np.array([0.2, 0.3]))


def test_evaluation_uses_the_models_threshold() -> None:
    model = Score().fit(TEXTS, LABELS)
    before = evaluate_model(model, TEXTS, LABELS, measure_speed=False, positive_label="yes")
    model.set_threshold(0.15, "yes")
    after = evaluate_model(model, TEXTS, LABELS, measure_speed=False, positive_label="yes")
    assert before.metrics["positive_f1"] == 0.0 and after.metrics["positive_f1"] == 1.0
    assert after.metrics["roc_auc"] == before.metrics["roc_auc"] == 1.0  # ranking metrics ignore it
    assert after.confusion.to_numpy().trace() == 6


def test_compute_metrics_with_given_predictions() -> None:
    proba = np.array([[0.6, 0.4], [0.7, 0.3]])
    m = compute_metrics(["yes", "no"], proba, ["no", "yes"], "yes", y_pred=["yes", "no"])
    assert m["accuracy"] == 1.0 and m["positive_f1"] == 1.0
    assert np.isnan(compute_metrics(["a", "b", "c"], np.eye(3), ["a", "b", "c"])["positive_f1"])


def test_config_needs_positive_label_to_tune(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "name: t\nregistered_model: t\ndata: {path: x.csv}\ntune_threshold: true\n"
        "models: {m: {kind: tfidf_lr}}\n"
    )
    with pytest.raises(ConfigError, match="needs positive_label"):
        load_config(path)
    assert load_config(path, ["positive_label=dissident"]).tune_threshold


def test_training_tunes_logs_and_registers_the_threshold(tmp_path: Path, mlflow_store: str) -> None:
    from mlflow import MlflowClient

    from nlpops.train import run_training

    rng = np.random.default_rng(0)
    words = ["scandale", "honte", "nul", "bien", "merci", "service", "mairie", "impots"]
    texts = [" ".join(rng.choice(words, 4)) + f" {i}" for i in range(160)]
    labels = ["dissident" if ("honte" in t or "scandale" in t) else "non dissident" for t in texts]
    pd.DataFrame({"text": texts, "label": labels}).to_csv(tmp_path / "d.csv", index=False)
    path = tmp_path / "c.yaml"
    path.write_text(
        f"name: thr\nregistered_model: thr\ndata: {{path: {tmp_path / 'd.csv'}}}\n"
        "metric: roc_auc\npositive_label: dissident\ntune_threshold: true\n"
        "preprocessing: {recipe: fr_lemma, lang: fr}\n"
        "models: {lr: {kind: tfidf_lr, class_weight: balanced}}\n"
    )
    report = run_training(load_config(path))
    run = MlflowClient().get_run(report.best.run_id)
    threshold = run.data.metrics["decision_threshold"]
    assert 0.0 < threshold < 1.0
    assert "test_positive_f1" in report.best.metrics
    from nlpops.tracking import load_estimator

    served = load_estimator(report.best.model_uri).model
    assert served.decision_threshold_ == pytest.approx(threshold) and served.positive_label_ == "dissident"
