"""MLflow as tracking store, registry and model format.

Models are logged as MLflow pyfunc models whose artifact is the nlpops model folder, so
``mlflow.pyfunc.load_model`` and ``mlflow models serve`` work, and nlpops itself loads the
estimator back without pyfunc's overhead (:func:`load_estimator`).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from nlpops.models.base import META_FILE, TextClassifier, load_model_dir, predicted_labels
from nlpops.outputs import filled_once
from nlpops.settings import get_settings

log = logging.getLogger(__name__)
CHAMPION = "champion"


def setup_tracking(experiment: str | None = None, tracking_uri: str | None = None) -> str | None:
    """Point MLflow at the configured store and select (or create) ``experiment``.

    Returns:
        The experiment id, or None when no experiment was asked for.
    """
    import mlflow

    settings = get_settings()
    uri = tracking_uri or settings.resolved_tracking_uri()
    mlflow.set_tracking_uri(uri)
    if experiment is None:
        return None
    found = mlflow.get_experiment_by_name(experiment)
    if found is not None:
        mlflow.set_experiment(experiment)
        return str(found.experiment_id)
    location = None
    if uri.startswith("sqlite:") or "://" not in uri:  # local store: keep artifacts beside it
        location = (settings.artifact_root.resolve() / experiment).as_uri()
    exp_id = mlflow.create_experiment(experiment, artifact_location=location)
    mlflow.set_experiment(experiment)
    return str(exp_id)


def _pyfunc_class() -> type:
    """Build the pyfunc wrapper class lazily so importing nlpops never imports mlflow."""
    import mlflow.pyfunc

    class NlpopsPyfunc(mlflow.pyfunc.PythonModel):  # type: ignore[name-defined]
        """MLflow wrapper: a DataFrame with a ``text`` column in, label + probabilities out."""

        def load_context(self, context: Any) -> None:
            self.model = load_model_dir(context.artifacts["model"])

        def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
            texts = model_input["text"] if isinstance(model_input, pd.DataFrame) else model_input
            return predictions_frame(self.model, list(texts))

    return NlpopsPyfunc


def predictions_frame(model: TextClassifier, texts: list[str]) -> pd.DataFrame:
    """Label and one ``proba_<class>`` column per class for each text."""
    proba = model.predict_proba(texts)
    frame = pd.DataFrame(proba, columns=[f"proba_{c}" for c in model.classes_])
    frame.insert(0, "label", list(predicted_labels(model, proba)))  # a tuned threshold applies
    return frame


def log_model(model: TextClassifier, folder: Path, examples: list[str]) -> str:
    """Log a saved model folder as the active run's pyfunc model; returns its model URI."""
    import mlflow
    from mlflow.models import infer_signature

    example = pd.DataFrame({"text": examples[:3]})
    signature = infer_signature(example, predictions_frame(model, examples[:3]))
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=_pyfunc_class()(),
        artifacts={"model": str(folder)},
        signature=signature,
        input_example=example,
        pip_requirements=["nlpops"],  # the package pins the rest; skips slow inference
    )
    return str(info.model_uri)


@dataclass
class LoadedModel:
    """An estimator with where it came from, as the API and the CLI report it."""

    model: TextClassifier
    name: str
    version: str | None = None
    alias: str | None = None
    uri: str = ""
    run_id: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    folder: Path | None = None  # the model folder (its reference profile for drift lives there)
    trained_on: str | None = None  # the run's "data" tag: which file, how many rows
    trained_at: str | None = None  # the run's start, ISO 8601 UTC


def parse_registry_uri(uri: str) -> tuple[str, str | None, str | None]:
    """Split ``models:/name@alias`` or ``models:/name/3`` into (name, alias, version)."""
    rest = uri.removeprefix("models:/")
    if "@" in rest:
        name, alias = rest.split("@", 1)
        return name, alias, None
    name, _, version = rest.partition("/")
    return name, None, version or None


def resolve_version(uri: str) -> str | None:
    """The registry version a ``models:/`` URI points at now (None for other URIs)."""
    if not uri.startswith("models:/"):
        return None
    from mlflow import MlflowClient

    name, alias, version = parse_registry_uri(uri)
    if alias:
        return str(MlflowClient().get_model_version_by_alias(name, alias).version)
    return version


def _find_model_folder(root: Path) -> Path:
    hits = sorted(root.rglob(META_FILE), key=lambda p: (len(p.parts), str(p)))
    if not hits:
        raise FileNotFoundError(f"no nlpops model ({META_FILE}) under {root}")
    return hits[0].parent  # the shallowest: an ensemble's members are model folders inside it


def _cache_key(uri: str, version: str | None) -> str:
    """Key of a downloaded model: the store, the URI, and the run behind a registry version.

    The run id matters: a recreated store numbers its versions from 1 again, and ``name/1``
    must not serve the old store's cached model.
    """
    run_id = ""
    if version is not None and uri.startswith("models:/"):
        from mlflow import MlflowClient

        run_id = MlflowClient().get_model_version(parse_registry_uri(uri)[0], version).run_id or ""
    store = get_settings().resolved_tracking_uri()
    return hashlib.sha256(f"{store}|{uri}|{version}|{run_id}".encode()).hexdigest()[:16]


def download_model(uri: str, cache_dir: Path | None = None) -> tuple[Path, str | None]:
    """Download the artifacts behind a model URI into the model cache (reused when already there).

    Args:
        uri: ``models:/name@alias``, ``models:/name/3`` or ``runs:/id/model``.
        cache_dir: where downloaded models are kept (so a restart works with the server down).

    Returns:
        The local folder and the registry version the URI resolved to (None for other URIs).
    """
    import mlflow

    setup_tracking()
    version = resolve_version(uri)
    cache = Path(cache_dir or get_settings().model_cache_dir) / _cache_key(uri, version)
    if not cache.exists():
        with filled_once(cache) as stage:  # complete or absent: never half-written
            mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(stage))
    return cache, version


def load_estimator(uri: str, cache_dir: Path | None = None) -> LoadedModel:
    """Load the nlpops estimator behind any model URI MLflow understands, or a local folder.

    Args:
        uri: ``models:/name@alias``, ``models:/name/3``, ``runs:/id/model``, an MLflow
            model folder, or an nlpops model folder.
        cache_dir: where downloaded models are kept (so a restart works with the server down).
    """
    local = Path(uri)
    if local.exists():
        folder = _find_model_folder(local)
        return LoadedModel(model=load_model_dir(folder), name=local.name, uri=uri, folder=folder)
    if ":/" not in uri:
        raise FileNotFoundError(
            f"{uri}: no such model folder, and not a URI (models:/name@alias, runs:/id/model)"
        )
    cache, version = download_model(uri, cache_dir)
    folder = _find_model_folder(cache)
    loaded = LoadedModel(model=load_model_dir(folder), name=uri, uri=uri, folder=folder)
    if uri.startswith("models:/"):
        _add_registry_info(loaded, uri, version)
    return loaded


def _add_registry_info(loaded: LoadedModel, uri: str, version: str | None) -> None:
    from mlflow import MlflowClient

    client = MlflowClient()
    name, alias, _ = parse_registry_uri(uri)
    loaded.name, loaded.alias, loaded.version = name, alias, version
    if version is not None:
        mv = client.get_model_version(name, version)
        loaded.run_id = mv.run_id
        if mv.run_id:
            run = client.get_run(mv.run_id)
            loaded.metrics = dict(run.data.metrics)
            loaded.trained_on = run.data.tags.get("data")
            loaded.trained_at = datetime.fromtimestamp(run.info.start_time / 1000, UTC).isoformat()


@dataclass
class Promotion:
    """What the champion rule decided for a newly registered version."""

    name: str
    version: str
    promoted: bool
    challenger_score: float
    champion_score: float | None
    reason: str


def _champion_score(
    name: str, metric: str, split_hash: str, scorer: Any, loader: Any = None
) -> tuple[str | None, float | None]:
    """The current champion's version and its test metric on the split identified by ``split_hash``.

    The logged metric is reused when the champion was tested on the same split; otherwise the
    champion is loaded and re-scored with ``scorer`` so the comparison is fair.
    """
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    try:
        champ = client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        return None, None
    if champ.run_id:
        run = client.get_run(champ.run_id)
        logged = run.data.metrics.get(f"test_{metric}")
        if run.data.tags.get("split_hash") == split_hash and logged is not None:
            return str(champ.version), float(logged)
    uri = f"models:/{name}/{champ.version}"
    model = loader(uri) if loader else load_estimator(uri).model
    return str(champ.version), float(scorer(model))


def register_and_promote(
    name: str,
    model_uri: str,
    run_id: str,
    metric: str,
    score: float,
    split_hash: str,
    scorer: Any,
    loader: Any = None,
) -> Promotion:
    """Register ``model_uri`` under ``name``; move ``@champion`` to it only if it beats the champion.

    Args:
        name: registered model name.
        model_uri: the logged model's URI.
        run_id: the run that produced it.
        metric: the config's metric (higher is better); compared on the test split.
        score: the challenger's test metric.
        split_hash: identifies the test split, so logged champion scores are reused only when comparable.
        scorer: ``model -> float``, scoring any estimator on this test split.
        loader: ``models:/ URI -> model`` for models that are not nlpops estimators (default:
            :func:`load_estimator`).
    """
    import mlflow
    from mlflow import MlflowClient

    client = MlflowClient()
    champ_version, champ_score = _champion_score(name, metric, split_hash, scorer, loader)
    mv = mlflow.register_model(model_uri, name, tags={"split_hash": split_hash, "run_id": run_id})
    version = str(mv.version)
    if champ_score is None:
        promoted, reason = True, "no champion yet"
    elif score > champ_score:
        promoted, reason = True, f"beats champion v{champ_version} ({score:.4f} > {champ_score:.4f})"
    else:
        promoted, reason = False, f"champion v{champ_version} stays ({champ_score:.4f} >= {score:.4f})"
    if promoted:
        client.set_registered_model_alias(name, CHAMPION, version)
    client.set_model_version_tag(name, version, "promotion", reason)
    return Promotion(name, version, promoted, score, champ_score, reason)
