"""Hyperparameter tuning: an Optuna study over a config's search space, tracked as nested MLflow runs.

Each trial fits one model on the training split and is scored on the validation split (the test
split is never looked at while searching). The parent run records the best parameters and value
and Optuna's optimisation-history and parameter-importance plots. With an RDB ``storage`` URL,
several ``nlpops tune`` processes (on one or many machines) share one study.
"""

from __future__ import annotations

import json
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlpops.config import CategoricalSpace, FloatSpace, IntSpace, ModelSpec, RunConfig
from nlpops.errors import ConfigError
from nlpops.models.registry import check_params
from nlpops.train import (
    PlannedRun,
    RunResult,
    Splits,
    accepts_param,
    build_planned,
    prepare_data,
    promote,
    train_one,
)

Notify = Callable[[str], None]
# Trials that fail with these are recorded as failed and the study goes on (a bad combination).
TRIAL_ERRORS: tuple[type[Exception], ...] = (ValueError, ArithmeticError, RuntimeError)


def _is_plain(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


def suggest_params(trial: Any, space: dict[str, FloatSpace | IntSpace | CategoricalSpace]) -> dict[str, Any]:
    """Draw one value per hyperparameter of ``space`` from an Optuna trial.

    Categorical choices that Optuna cannot store (lists such as an n-gram range) are suggested
    as their JSON text and decoded, so ``[[2, 5], null]`` works as a choice list.
    """
    params: dict[str, Any] = {}
    for name, dist in space.items():
        if isinstance(dist, FloatSpace):
            params[name] = trial.suggest_float(name, dist.low, dist.high, log=dist.log)
        elif isinstance(dist, IntSpace):
            params[name] = trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
        elif all(_is_plain(c) for c in dist.choices):
            params[name] = trial.suggest_categorical(name, dist.choices)
        else:
            picked = trial.suggest_categorical(name, [json.dumps(c) for c in dist.choices])
            params[name] = json.loads(picked)
    return params


def decode_params(cfg: RunConfig, model: str, raw: dict[str, Any]) -> dict[str, Any]:
    """Optuna's stored params (JSON text for list choices) back into model parameters."""
    space = cfg.search[model]
    out = dict(raw)
    for name, dist in space.items():
        if isinstance(dist, CategoricalSpace) and not all(_is_plain(c) for c in dist.choices):
            out[name] = json.loads(raw[name])
    return out


def planned_with(cfg: RunConfig, model: str, params: dict[str, Any]) -> PlannedRun:
    """The config's ``model`` entry with ``params`` laid over its own parameters."""
    base = cfg.models[model]
    spec = ModelSpec.model_validate(base.params | params | {"kind": base.kind})
    accepts_recipe = accepts_param(base.kind, "recipe")
    recipe = spec.params.get("recipe", cfg.preprocessing.recipe) if accepts_recipe else None
    return PlannedRun(model, spec, recipe)


@dataclass
class TuneResult:
    """What a tuning call found: the study, its best trial, the parent MLflow run and any refit."""

    study: Any
    best_params: dict[str, Any]
    best_value: float
    parent_run_id: str
    n_trials: int
    refit: RunResult | None = None
    promotion: Any = None


class Objective:
    """One trial: fit the model with suggested parameters on train, score it on validation."""

    def __init__(self, cfg: RunConfig, model: str, splits: Splits) -> None:
        self.cfg, self.model, self.splits = cfg, model, splits

    def __call__(self, trial: Any) -> float:
        import mlflow
        import optuna

        params = suggest_params(trial, self.cfg.search[self.model])
        with mlflow.start_run(run_name=f"trial {trial.number}", nested=True) as active:
            trial.set_user_attr("mlflow_run_id", active.info.run_id)
            mlflow.set_tags({"model": self.model, "trial": trial.number})
            mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
            try:
                scores, fit_s = self._fit_and_score(trial, params)
            except optuna.TrialPruned:
                mlflow.set_tag("state", "pruned")
                raise
            except TRIAL_ERRORS as exc:  # recorded so that the CLI and the run say why
                trial.set_user_attr("error", f"{type(exc).__name__}: {exc}")
                mlflow.set_tag("error", f"{type(exc).__name__}: {exc}"[:5000])
                raise
            logged = {f"val_{k}": float(v) for k, v in scores.items() if v == v}
            mlflow.log_metrics(logged | {"train_time_s": fit_s})
        return float(scores[self.cfg.metric])

    def _fit_and_score(self, trial: Any, params: dict[str, Any]) -> tuple[dict[str, float], float]:
        from nlpops.evaluate import score_model

        estimator = build_planned(planned_with(self.cfg, self.model, params), self.cfg.preprocessing.lang)
        estimator.epoch_callback = _pruning_callback(trial, self.cfg.metric)  # epoch-based models call it
        train, val = self.splits.train, self.splits.val
        started = time.perf_counter()
        estimator.fit(train["text"].tolist(), train["label"].tolist())
        fit_s = time.perf_counter() - started
        scores = score_model(estimator, val["text"].tolist(), val["label"].tolist(), self.cfg.positive_label)
        return scores, fit_s


def _pruning_callback(trial: Any, metric: str) -> Callable[[int, dict[str, float]], None]:
    """Report a model's per-epoch validation score to Optuna and stop the trial if it is pruned."""
    import optuna

    def report(epoch: int, scores: dict[str, float]) -> None:
        value = scores.get(f"val_{metric}", scores.get("val_accuracy"))
        if value is None:
            return
        trial.report(float(value), epoch)
        if trial.should_prune():
            raise optuna.TrialPruned(f"pruned at epoch {epoch}")

    return report


def open_storage(url: str, attempts: int = 4) -> Any:
    """Optuna's RDB storage at ``url``, retried: processes started together on an empty database race
    to create Optuna's tables and types, and all but one fail once (seen on PostgreSQL)."""
    import optuna
    from sqlalchemy.exc import SQLAlchemyError

    for attempt in range(1, attempts + 1):
        try:
            return optuna.storages.RDBStorage(url)
        except SQLAlchemyError:
            if attempt == attempts:
                raise
            time.sleep(0.3 * attempt)
    raise AssertionError("unreachable")


def create_study(
    cfg: RunConfig, model: str, storage: str | None, study_name: str | None, seed: int | None
) -> Any:
    """A maximising TPE study with median pruning; an RDB ``storage`` shares it between processes."""
    import optuna

    return optuna.create_study(
        study_name=study_name or f"{cfg.name}-{model}",
        storage=open_storage(storage) if storage else None,
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1),
        load_if_exists=True,
    )


def _log_study(study: Any, metric: str, folder: Path) -> None:
    """Log the best trial and Optuna's plots on the active (parent) run."""
    import matplotlib.pyplot as plt
    import mlflow
    import optuna.visualization.matplotlib as vis

    done = [t for t in study.trials if t.state.name == "COMPLETE"]
    mlflow.log_metrics({f"best_val_{metric}": study.best_value, "n_complete_trials": len(done)})
    mlflow.log_params({f"best_{k}": str(v)[:500] for k, v in study.best_params.items()})
    plots: list[tuple[str, Callable[..., Any]]] = [("optimization_history", vis.plot_optimization_history)]
    if len(done) >= 2 and study.best_params:
        plots.append(("param_importances", vis.plot_param_importances))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna flags its matplotlib plots as experimental
        for name, plot in plots:
            try:
                ax = plot(study)
            except (ValueError, RuntimeError) as exc:  # e.g. importances with one distinct value
                mlflow.set_tag(f"plot_{name}", f"not drawn: {exc}")
                continue
            path = folder / f"{name}.png"
            ax.figure.savefig(path, dpi=110, bbox_inches="tight")
            plt.close(ax.figure)
            mlflow.log_artifact(str(path), artifact_path="tuning")


def _check_model(cfg: RunConfig, model: str) -> None:
    if model not in cfg.models:
        raise ConfigError(f"model {model!r} not in the config; it has: {', '.join(cfg.models)}")
    if not cfg.search.get(model):
        raise ConfigError(f"no search space for {model!r}: add search.{model} to the config")
    # A typo in a hyperparameter name fails here, before any data is loaded.
    spec = cfg.models[model]
    check_params(spec.kind, spec.params | {k: _first_value(d) for k, d in cfg.search[model].items()})


def _check_some_complete(study: Any) -> None:
    """Fail with the first trial's error when no trial could complete (a bad space, bad data)."""
    if any(t.state.name == "COMPLETE" for t in study.trials):
        return
    reasons = [t.user_attrs.get("error", "") for t in study.trials if t.state.name == "FAIL"]
    first = next((r for r in reasons if r), "no trial ran")
    raise ConfigError(f"no trial of study {study.study_name!r} completed; first error: {first}")


def _first_value(dist: FloatSpace | IntSpace | CategoricalSpace) -> Any:
    return dist.choices[0] if isinstance(dist, CategoricalSpace) else dist.low


def run_tuning(
    cfg: RunConfig,
    model: str,
    n_trials: int | None = 20,
    timeout: float | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    refit: bool = False,
    seed: int | None = None,
    on_trial: Callable[[Any], None] | None = None,
) -> TuneResult:
    """Tune ``model`` over ``cfg.search[model]``; optionally refit the best on train+val and promote it.

    Args:
        cfg: the run config (its ``search`` section holds the space).
        model: a model name from ``cfg.models``.
        n_trials: trials this process runs (None: until ``timeout``).
        timeout: seconds this process spends at most.
        storage: Optuna storage URL (``sqlite:///…``, ``postgresql+psycopg://…``); None keeps it in memory.
        study_name: the shared study's name (default ``<config name>-<model>``).
        refit: retrain the best parameters on train+val, log, register, apply the champion rule.
        seed: TPE sampler seed (leave None when processes share a study, or they draw the same points).
        on_trial: called after each finished trial (progress display).

    Returns:
        The study and its best trial, the parent run id, and the refit run and promotion if any.
    """
    import mlflow
    import optuna

    from nlpops.tracking import setup_tracking

    _check_model(cfg, model)
    setup_tracking(cfg.name)
    splits = prepare_data(cfg)
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # failed trials are reported by on_trial
    study = create_study(cfg, model, storage, study_name, seed)
    callbacks = [lambda _study, trial: on_trial(trial)] if on_trial else []
    with mlflow.start_run(run_name=f"tune {model}") as parent, tempfile.TemporaryDirectory() as tmp:
        mlflow.set_tags({"model": model, "tuning": "parent", "study": study.study_name})
        study.optimize(
            Objective(cfg, model, splits),
            n_trials=n_trials,
            timeout=timeout,
            callbacks=callbacks,
            catch=TRIAL_ERRORS,
        )
        _check_some_complete(study)
        _log_study(study, cfg.metric, Path(tmp))
    best = decode_params(cfg, model, study.best_params)
    result = TuneResult(study, best, study.best_value, parent.info.run_id, len(study.trials))
    if refit:
        result.refit = train_one(cfg, planned_with(cfg, model, best), splits, refit=True)
        result.promotion = promote(cfg, result.refit, splits)
    return result
