"""Tuning: search spaces in the config, Optuna trials as nested MLflow runs, pruning, refit + champion."""

from __future__ import annotations

from pathlib import Path

import optuna
import pandas as pd
import pytest
from mlflow import MlflowClient

from nlpops.config import ConfigError, load_config
from nlpops.tune import _pruning_callback, decode_params, run_tuning, suggest_params

ROOT = Path(__file__).resolve().parents[2]

CFG = """
name: tune-test
registered_model: tune-test
data: {{path: {data}, format: csv}}
split: {{seed: 1, val_size: 0.2, test_size: 0.2}}
metric: accuracy
models:
  lr: {{kind: tfidf_lr, char_ngram_range: null, max_iter: 200}}
search:
  lr:
    C: {{type: float, low: 0.1, high: 10, log: true}}
    word_ngram_max: {{type: int, low: 1, high: 2}}
    char_ngram_range: {{type: categorical, choices: [[2, 4], null]}}
"""


@pytest.fixture
def small_csv(tmp_path: Path) -> Path:
    """800 shuffled tweets of the shipped sample (both labels)."""
    df = pd.read_csv(ROOT / "data/sample/sentiment140_sample.csv").sample(800, random_state=0)
    path = tmp_path / "small.csv"
    df.to_csv(path, index=False)
    return path


def _config(tmp_path: Path, data: Path, extra: str = "") -> Path:
    path = tmp_path / "cfg.yaml"
    path.write_text(CFG.format(data=data) + extra)
    return path


def test_list_choices_are_suggested_as_json_and_decoded(tmp_path: Path, small_csv: Path) -> None:
    cfg = load_config(_config(tmp_path, small_csv))
    trial = optuna.trial.FixedTrial({"C": 1.0, "word_ngram_max": 2, "char_ngram_range": "[2, 4]"})
    params = suggest_params(trial, cfg.search["lr"])
    assert params == {"C": 1.0, "word_ngram_max": 2, "char_ngram_range": [2, 4]}
    stored = {"C": 1.0, "word_ngram_max": 2, "char_ngram_range": "null"}
    assert decode_params(cfg, "lr", stored)["char_ngram_range"] is None


@pytest.mark.parametrize(
    ("search", "message"),
    [
        ("search: {svm: {C: {type: float, low: 1, high: 2}}}", "search.svm: no model 'svm'"),
        ("search: {lr: {C: {type: float, low: 2, high: 1}}}", r"search.lr.C: low \(2.0\) must be < high"),
        ("search: {lr: {C: {type: float, low: 0, high: 1, log: true}}}", "log scale needs low > 0"),
        ("search: {lr: {C: {type: normal, low: 0, high: 1}}}", "search.lr.C"),
    ],
)
def test_bad_search_spaces_name_the_key(tmp_path: Path, search: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(CFG.split("search:")[0].format(data="x.csv") + search)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_unknown_hyperparameter_fails_before_loading_data(tmp_path: Path, mlflow_store: str) -> None:
    extra = "    not_a_param: {type: int, low: 1, high: 3}\n"
    cfg = load_config(_config(tmp_path, tmp_path / "missing.csv", extra))
    with pytest.raises(TypeError, match=r"no parameter.*not_a_param"):
        run_tuning(cfg, "lr", n_trials=1)


def test_no_search_space_is_a_clear_error(tmp_path: Path, small_csv: Path) -> None:
    cfg = load_config(_config(tmp_path, small_csv))
    cfg.search.clear()
    with pytest.raises(ConfigError, match="no search space for 'lr'"):
        run_tuning(cfg, "lr", n_trials=1)


def test_trials_are_nested_runs_and_refit_registers(
    tmp_path: Path, small_csv: Path, mlflow_store: str
) -> None:
    cfg = load_config(_config(tmp_path, small_csv))
    result = run_tuning(cfg, "lr", n_trials=3, refit=True, seed=0)
    client = MlflowClient()
    parent = client.get_run(result.parent_run_id)
    children = client.search_runs(
        [parent.info.experiment_id], f"tags.mlflow.parentRunId = '{result.parent_run_id}'"
    )
    assert len(children) == 3
    assert {c.data.tags["trial"] for c in children} == {"0", "1", "2"}
    assert parent.data.metrics["best_val_accuracy"] == pytest.approx(result.best_value)
    assert max(c.data.metrics["val_accuracy"] for c in children) == pytest.approx(result.best_value)
    plots = {a.path for a in client.list_artifacts(result.parent_run_id, "tuning")}
    assert {"tuning/optimization_history.png", "tuning/param_importances.png"} <= plots
    assert result.refit is not None and result.refit.metrics["test_accuracy"] > 0.6
    refit_run = client.get_run(result.refit.run_id)
    assert refit_run.data.tags["fit_on"] == "train+val"
    assert "val_accuracy" not in refit_run.data.metrics  # validation rows were trained on
    assert result.promotion.promoted and result.promotion.version == "1"


def test_failing_trials_are_recorded_and_reported(tmp_path: Path, small_csv: Path, mlflow_store: str) -> None:
    # min_df above the number of documents leaves no vocabulary: every trial fails.
    extra = "    min_df: {type: categorical, choices: [100000]}\n"
    cfg = load_config(_config(tmp_path, small_csv, extra))
    with pytest.raises(
        ValueError, match="no trial of study 'tune-test-lr' completed; first error: ValueError"
    ):
        run_tuning(cfg, "lr", n_trials=2)


def test_pruning_callback_reports_and_prunes() -> None:
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.ThresholdPruner(lower=0.7))
    trial = study.ask()
    report = _pruning_callback(trial, "accuracy")
    report(0, {"val_accuracy": 0.9})  # above the threshold: goes on
    with pytest.raises(optuna.TrialPruned, match="epoch 1"):
        report(1, {"val_accuracy": 0.5})
    assert trial.storage.get_trial(trial._trial_id).intermediate_values == {0: 0.9, 1: 0.5}


def test_cli_tunes_and_prints_the_best(tmp_path: Path, small_csv: Path, mlflow_store: str) -> None:
    from typer.testing import CliRunner

    from nlpops.cli import app

    cfg = _config(tmp_path, small_csv)
    result = CliRunner().invoke(app, ["tune", str(cfg), "--model", "lr", "--trials", "2", "--seed", "0"])
    assert result.exit_code == 0, result.output
    assert "best val accuracy:" in result.output and "(2 trials in the study)" in result.output
    bad = CliRunner().invoke(app, ["tune", str(cfg), "--model", "svm"])
    assert bad.exit_code == 1 and "model 'svm' not in the config" in bad.output


def test_storage_creation_is_retried_after_a_race(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from sqlalchemy.exc import IntegrityError

    from nlpops.tune import open_storage

    real, calls = optuna.storages.RDBStorage, []

    def racing(url: str) -> object:  # the first call loses the race to create Optuna's tables
        calls.append(url)
        if len(calls) == 1:
            raise IntegrityError("CREATE TYPE studydirection", {}, Exception("duplicate key"))
        return real(url)

    monkeypatch.setattr(optuna.storages, "RDBStorage", racing)
    storage = open_storage(f"sqlite:///{tmp_path / 'study.db'}")
    assert len(calls) == 2 and storage.get_all_studies() == []
