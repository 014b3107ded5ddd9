"""Training: config → data → split → fit each model (× recipe) → evaluate → MLflow → champion."""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from nlpops.config import ModelSpec, RunConfig
from nlpops.errors import ConfigError, ParameterError
from nlpops.models.base import TextClassifier
from nlpops.models.registry import build_model, param_names

Notify = Callable[[str], None]


@dataclass
class PlannedRun:
    """One model to train: config entry name, its spec and the recipe it uses (None: no recipe param)."""

    name: str
    spec: ModelSpec
    recipe: str | None

    @property
    def label(self) -> str:
        return f"{self.name}[{self.recipe}]" if self.recipe else self.name


@dataclass
class Splits:
    """Train/val/test frames (``text``, ``label``) with the split manifest and a hash of the test set."""

    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame
    manifest: dict[str, Any]
    test_hash: str


@dataclass
class RunResult:
    """What one trained model scored, and where MLflow keeps it."""

    name: str
    kind: str
    recipe: str | None
    run_id: str
    model_uri: str
    metrics: dict[str, float] = field(default_factory=dict)


def accepts_param(kind: str, param: str) -> bool:
    """Whether models of ``kind`` take hyperparameter ``param`` (e.g. a preprocessing ``recipe``)."""
    names = param_names(kind)
    return names is None or param in names


def plan_runs(
    cfg: RunConfig, models: list[str] | None = None, recipes: list[str] | None = None
) -> list[PlannedRun]:
    """Expand the config (and CLI filters) into the list of runs, one per model × recipe."""
    names = models or list(cfg.models)
    unknown = [n for n in names if n not in cfg.models]
    if unknown:
        raise ConfigError(f"model(s) {unknown} not in the config; it has: {', '.join(cfg.models)}")
    plan: list[PlannedRun] = []
    for name in names:
        spec = cfg.models[name]
        if not accepts_param(spec.kind, "recipe"):
            plan.append(PlannedRun(name, spec, None))
            continue
        if "recipe" in spec.params:  # a recipe set on the model itself (e.g. VADER on raw text) is kept
            plan.append(PlannedRun(name, spec, spec.params["recipe"]))
            continue
        for recipe in recipes or cfg.preprocessing.compare or [cfg.preprocessing.recipe]:
            plan.append(PlannedRun(name, spec, recipe))
    return plan


def build_planned(run: PlannedRun, lang: str) -> TextClassifier:
    """The unfitted estimator for a planned run (its recipe and language filled in)."""
    params = run.spec.params
    if run.recipe is not None:
        params["recipe"] = run.recipe
    if accepts_param(run.spec.kind, "lang"):
        params.setdefault("lang", lang)
    return build_model(run.spec.kind, params)


def _hash_frame(frame: pd.DataFrame) -> str:
    rows = sorted(zip(frame["text"], frame["label"], strict=True))
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]


def prepare_data(cfg: RunConfig) -> Splits:
    """Load the config's data, drop unwanted labels, split it, and check the split for leakage."""
    from nlpops.data import check_leakage, load_dataset, split_dataset, write_split

    df = load_dataset(
        cfg.data_path(), fmt=cfg.data.format, columns=cfg.data.columns or None, limit=cfg.data.limit
    )
    df = df[df["label"].notna()]
    if cfg.data.drop_labels:
        df = df[~df["label"].isin(cfg.data.drop_labels)]
    split = split_dataset(
        df,
        seed=cfg.split.seed,
        val_size=cfg.split.val_size,
        test_size=cfg.split.test_size,
        group_col=cfg.split.group_col,
    )
    check_leakage(split.train, split.val, split.test)
    with tempfile.TemporaryDirectory() as tmp:  # the manifest carries hashes of the written splits
        manifest = json.loads(write_split(split, tmp).read_text(encoding="utf-8"))
    return Splits(split.train, split.val, split.test, manifest, _hash_frame(split.test))


def _flat_params(model: TextClassifier) -> dict[str, str]:
    return {k: str(v)[:500] for k, v in model.get_params(deep=False).items()}


def _log_evaluation(result: Any, folder: Path) -> None:
    """Log tables and plots of an evaluation as artifacts of the active run."""
    import mlflow

    from nlpops.evaluate import write_evaluation

    for written in write_evaluation(result, folder / "evaluation"):
        mlflow.log_artifact(str(written), artifact_path="evaluation")
    for plot in result.plots:
        mlflow.log_artifact(str(plot), artifact_path="plots")


def log_history(model: TextClassifier) -> None:
    """Log a model's per-epoch ``history_`` (the deep models keep one) as MLflow step metrics.

    Named ``epoch_train_loss`` / ``epoch_val_loss`` / ``epoch_val_accuracy``: a plain ``val_accuracy``
    at steps 1..n would hide the run's final ``val_accuracy`` (MLflow shows the latest step).
    """
    import mlflow

    for row in getattr(model, "history_", None) or []:
        keys = ("train_loss", "val_loss", "val_accuracy")
        values = {f"epoch_{k}": float(row[k]) for k in keys if k in row and row[k] == row[k]}  # skip NaN
        mlflow.log_metrics(values, step=int(row["epoch"]))


def tune_threshold(model: TextClassifier, val: pd.DataFrame, positive_label: str) -> float:
    """Set the model's decision threshold to the best F1 of ``positive_label`` on ``val`` and log it."""
    import mlflow

    threshold = model.tune_threshold(val["text"].tolist(), val["label"].tolist(), positive_label)
    mlflow.log_metric("decision_threshold", threshold)
    return threshold


def train_one(cfg: RunConfig, run: PlannedRun, splits: Splits, refit: bool = False) -> RunResult:
    """Fit, evaluate and log one planned run; returns its metrics and logged model URI.

    Args:
        cfg: the run config.
        run: the model (and recipe) to train.
        splits: train/val/test frames.
        refit: fit on train + validation (after tuning); no ``val_*`` metrics are then logged,
            since the validation rows were seen in training.
    """
    import mlflow

    from nlpops.drift import build_profile
    from nlpops.evaluate import evaluate_model, model_size_mb, score_model
    from nlpops.models.target import target_label
    from nlpops.tracking import log_model

    model = build_planned(run, cfg.preprocessing.lang)
    fit_on = pd.concat([splits.train, splits.val]) if refit else splits.train
    data = f"{Path(cfg.data.path).name}: {len(fit_on):,} rows"
    from_feedback = splits.manifest.get("feedback", {}).get("added_to_training", 0)
    if from_feedback:  # nlpops retrain: the model card says what the served model learned from
        data += f", {from_feedback:,} of them from feedback"
    with mlflow.start_run(run_name=run.label) as active, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        mlflow.set_tags(
            {
                "model": run.name,
                "kind": run.spec.kind,
                "recipe": run.recipe or "-",
                "split_hash": splits.test_hash,
                "fit_on": "train+val" if refit else "train",
                "data": data,
            }
        )
        mlflow.log_params(_flat_params(model))
        started = time.perf_counter()
        try:
            model.fit(fit_on["text"].tolist(), fit_on["label"].tolist())
        except ParameterError as exc:  # name the config's model, not the class
            raise ParameterError(f"models.{run.name}: {exc}") from exc
        train_time = time.perf_counter() - started
        model.target_label_ = target_label(model, cfg.target_label)  # saved with the model
        log_history(model)
        if cfg.tune_threshold and not refit:  # after refit no unseen validation rows are left
            tune_threshold(model, splits.val, cfg.positive_label or "")
        val_metrics = (
            {}
            if refit
            else score_model(
                model, splits.val["text"].tolist(), splits.val["label"].tolist(), cfg.positive_label
            )
        )
        folder = model.save(work / "model")
        result = evaluate_model(
            model,
            splits.test["text"].tolist(),
            splits.test["label"].tolist(),
            out_dir=work / "plots",
            positive_label=cfg.positive_label,
        )
        metrics = {f"test_{k}": float(v) for k, v in result.metrics.items()}
        metrics |= {f"val_{k}": float(v) for k, v in val_metrics.items()}
        metrics |= {"train_time_s": train_time, "size_mb": model_size_mb(folder)}
        mlflow.log_metrics({k: v for k, v in metrics.items() if v == v})  # NaN metrics are not logged
        (work / "split_manifest.json").write_text(json.dumps(splits.manifest, indent=2, default=str))
        mlflow.log_artifact(str(work / "split_manifest.json"))
        _log_evaluation(result, work)
        # The drift reference travels inside the model folder (the service reads it from there) and is
        # logged beside it, to read in the MLflow UI.
        profile = build_profile(model, fit_on["text"].tolist(), splits.val["text"].tolist())
        mlflow.log_artifact(str(profile.save(folder)))
        uri = log_model(model, folder, splits.test["text"].head(3).tolist())
    return RunResult(run.name, run.spec.kind, run.recipe, active.info.run_id, uri, metrics)


def _speed_ratios(results: list[RunResult]) -> None:
    """Express each run's training time as a ratio to fastText's in the same run (our speed anchor)."""
    from mlflow import MlflowClient

    anchor = next((r.metrics["train_time_s"] for r in results if r.kind == "fasttext"), None)
    if not anchor:
        return
    client = MlflowClient()
    for r in results:
        r.metrics["train_time_vs_fasttext"] = r.metrics["train_time_s"] / anchor
        client.log_metric(r.run_id, "train_time_vs_fasttext", r.metrics["train_time_vs_fasttext"])


@dataclass
class TrainingReport:
    """Every run of one ``nlpops train`` call, the best one, and what the champion rule decided."""

    results: list[RunResult]
    best: RunResult
    promotion: Any
    splits: Splits


def run_training(
    cfg: RunConfig,
    models: list[str] | None = None,
    recipes: list[str] | None = None,
    notify: Notify | None = None,
    splits: Splits | None = None,
) -> TrainingReport:
    """Train every planned run, pick the best by the validation metric, and apply the champion rule.

    ``splits`` replaces the config's split (``nlpops retrain`` adds the feedback to its training part).
    """
    from nlpops.tracking import setup_tracking

    say = notify or (lambda _msg: None)
    plan = plan_runs(cfg, models, recipes)
    for run in plan:  # fail on a bad parameter before any training starts
        build_planned(run, cfg.preprocessing.lang)
    setup_tracking(cfg.name)
    splits = splits or prepare_data(cfg)
    say(f"data: {len(splits.train)} train / {len(splits.val)} val / {len(splits.test)} test")
    results = []
    for run in plan:
        say(f"training {run.label}")
        results.append(train_one(cfg, run, splits))
        score = results[-1].metrics.get(f"test_{cfg.metric}", float("nan"))
        say(f"done {run.label}: test {cfg.metric}={score:.4f}")
    _speed_ratios(results)
    best = max(results, key=lambda r: r.metrics.get(f"val_{cfg.metric}", float("-inf")))
    return TrainingReport(results, best, promote(cfg, best, splits), splits)


def promote(cfg: RunConfig, best: RunResult, splits: Splits) -> Any:
    """Register ``best`` under the config's model name; the champion alias moves only on improvement."""
    from nlpops.evaluate import score_model
    from nlpops.tracking import register_and_promote

    def scorer(model: TextClassifier) -> float:
        test = score_model(
            model, splits.test["text"].tolist(), splits.test["label"].tolist(), cfg.positive_label
        )
        return test[cfg.metric]

    return register_and_promote(
        cfg.registered_model,
        best.model_uri,
        best.run_id,
        cfg.metric,
        best.metrics[f"test_{cfg.metric}"],
        splits.test_hash,
        scorer,
    )
