"""MLflow as tracking store, registry and model format.

Models are logged as MLflow pyfunc models whose artifact is the nlpops model folder, so
``mlflow.pyfunc.load_model`` and ``mlflow models serve`` work, and nlpops itself loads the
estimator back without pyfunc's overhead (:func:`load_estimator`).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from nlpops.errors import ModelNotFoundError, UsageError
from nlpops.models.base import META_FILE, TextClassifier, load_model_dir, predicted_labels
from nlpops.models.extras import pip_requirement
from nlpops.outputs import filled_once
from nlpops.settings import get_settings

log = logging.getLogger(__name__)
CHAMPION = "champion"
MLMODEL_FILE = "MLmodel"  # marks an MLflow model folder


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
    example = pd.DataFrame({"text": examples[:3]})
    output = predictions_frame(model, examples[:3])
    return log_pyfunc(_pyfunc_class()(), folder, example, output, pip_requirement(model))


def log_pyfunc(
    python_model: Any, folder: Path, example: pd.DataFrame, output: pd.DataFrame, requirement: str = "nlpops"
) -> str:
    """Log ``folder`` as the artifact of ``python_model`` (a pyfunc wrapper) in the active run.

    Every nlpops model is logged this way (classifiers here, the skills pipeline in ``skills.model``):
    the signature is read off one example and its output, and the one pip requirement is nlpops with
    the extras the model needs (``models.extras``): the package pins the rest.

    Returns:
        The logged model's URI.
    """
    import mlflow
    from mlflow.models import infer_signature

    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=python_model,
        artifacts={"model": str(folder)},
        signature=infer_signature(example, output),
        input_example=example,
        pip_requirements=[requirement],  # also skips MLflow's slow inference of requirements
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
    """The registry version a ``models:/`` URI points at now (None for other URIs).

    Raises:
        ModelNotFoundError: the registry has no such model, alias or version.
    """
    if not uri.startswith("models:/"):
        return None
    from mlflow import MlflowClient

    name, alias, version = parse_registry_uri(uri)
    with _missing_as_not_found(uri):
        if alias:
            return str(MlflowClient().get_model_version_by_alias(name, alias).version)
        if version is not None:
            MlflowClient().get_model_version(name, version)  # a version that does not exist fails here
    return version


def describe_registry() -> str:
    """Every registered model as ``name@alias (vN)`` (or ``name (vN, no alias)``), for error messages."""
    from mlflow import MlflowClient

    entries = []
    for model in MlflowClient().search_registered_models(max_results=1000):
        aliases = sorted((model.aliases or {}).items())
        entries += [f"{model.name}@{alias} (v{version})" for alias, version in aliases]
        if not aliases:
            versions = ", ".join(f"v{v.version}" for v in model.latest_versions or [])
            entries.append(f"{model.name} ({versions or 'no version'}, no alias)")
    if not entries:
        store = get_settings().resolved_tracking_uri()
        here, path = "", store.removeprefix("sqlite:///")
        if store.startswith("sqlite:///") and not Path(path).is_absolute():  # a newcomer in another folder
            here = f" in {Path.cwd() / path} (relative to the current folder: run where you trained)"
        return f"no model is registered yet{here}; run `nlpops train configs/demo.yaml` (or `make demo`)"
    return "registered: " + ", ".join(entries)


def _what_is_missing(uri: str, fallback: str) -> str:
    """Which part of ``uri`` the store lacks: the model, its alias or version, the run, the artifact."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    try:
        if uri.startswith("models:/"):
            name, alias, version = parse_registry_uri(uri)
            try:
                client.get_registered_model(name)
            except MlflowException:
                return f"no registered model named {name!r}"
            if alias:
                return f"{name} has no alias @{alias}"
            if version:
                return f"{name} has no version {version}"
            return f"name a version or an alias of {name}: models:/{name}/1, models:/{name}@champion"
        if uri.startswith("runs:/"):
            run_id, _, path = uri.removeprefix("runs:/").partition("/")
            try:
                client.get_run(run_id)
            except MlflowException:
                return f"no run {run_id!r}"
            return f"run {run_id} has no model or artifact at {path!r}"
    except Exception:  # the store went away while we looked: MLflow's own words will do
        return fallback
    return fallback


def _is_missing(exc: Exception) -> bool:
    """Whether an MLflow error means "no such model, alias, version, run or artifact"."""
    code = getattr(exc, "error_code", "")
    if code == "RESOURCE_DOES_NOT_EXIST":
        return True
    # the sqlite store reports an unknown alias, or a version that is no number, as a bad parameter
    return code == "INVALID_PARAMETER_VALUE" and ("not found" in str(exc) or "version" in str(exc))


@contextmanager
def _missing_as_not_found(uri: str) -> Iterator[None]:
    """Turn MLflow's "does not exist" errors about ``uri`` into one :class:`ModelNotFoundError`."""
    from mlflow.exceptions import MlflowException

    try:
        yield
    except MlflowException as exc:
        if not _is_missing(exc):
            raise
        raise _not_found(uri, exc.message) from None


def _not_found(uri: str, fallback: str) -> ModelNotFoundError:
    what = _what_is_missing(uri, fallback)
    store = get_settings().resolved_tracking_uri()
    return ModelNotFoundError(f"{uri}: {what} (tracking store {store}); {describe_registry()}")


def check_model(uri: str) -> None:
    """Fail now when ``uri`` names no model, without downloading it (a server checks before it starts).

    Raises:
        ModelNotFoundError: no such folder, registered model, alias, version, run or artifact.
        FileNotFoundError: a local folder that is not a model.
        MlflowException: the tracking store could not be asked (e.g. its server is down).
    """
    local = Path(uri)
    if local.exists():
        find_model_folder(local)
        return
    if ":/" not in uri:
        raise ModelNotFoundError(_not_a_uri(uri))
    import mlflow

    _check_runs_uri(uri)
    setup_tracking()
    resolve_version(uri)
    with _missing_as_not_found(uri):
        unresolved = uri.startswith("runs:/") or parse_registry_uri(uri)[1:] == (None, None)
        if unresolved and not mlflow.artifacts.list_artifacts(artifact_uri=uri):
            raise _not_found(uri, "nothing there")


def _check_runs_uri(uri: str) -> None:
    """A ``runs:/`` URI needs the run id and the path of the model in the run."""
    run_id, _, path = uri.removeprefix("runs:/").partition("/")
    if uri.startswith("runs:/") and not (run_id and path):
        raise UsageError(
            f"{uri}: a runs:/ URI names the run and the model's path in it: runs:/<run id>/model"
        )


def _not_a_uri(uri: str) -> str:
    return f"{uri}: no such model folder, and not a URI (models:/name@alias, runs:/id/model)"


def find_model_folder(root: Path) -> Path:
    """The nlpops model in ``root``: ``root`` itself, or the one model of an MLflow model folder.

    Only these two layouts are accepted: in a folder that merely holds models somewhere below
    (a cache, a project), picking one would be a guess.

    Raises:
        FileNotFoundError: ``root`` is neither, or an MLflow model folder holds no or several models.
    """
    if (root / META_FILE).is_file():
        return root
    if (root / MLMODEL_FILE).is_file():
        found = sorted(p.parent for p in (root / "artifacts").glob(f"*/{META_FILE}"))
        if len(found) == 1:
            return found[0]
        names = ", ".join(p.name for p in found) or "none"
        raise FileNotFoundError(
            f"{root}: an MLflow model folder whose artifacts/ holds {len(found)} nlpops models ({names}); "
            "expected exactly one"
        )
    raise FileNotFoundError(
        f"{root}: not a model folder (no {META_FILE} and no {MLMODEL_FILE} in it); give the folder that "
        f"holds {META_FILE}, an MLflow model folder, or a URI such as models:/name@champion"
    )


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
        The local folder of the model (MLflow keeps a ``runs:/id/path`` URI's path below the cache
        entry) and the registry version the URI resolved to (None for other URIs).

    Raises:
        ModelNotFoundError: the tracking store has no such model, alias, version, run or artifact.
    """
    import mlflow

    _check_runs_uri(uri)
    setup_tracking()
    version = resolve_version(uri)
    with _missing_as_not_found(uri):
        cache = Path(cache_dir or get_settings().model_cache_dir) / _cache_key(uri, version)
        if not cache.exists():
            with filled_once(cache) as stage:  # complete or absent: never half-written
                mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(stage))
    path_in_run = uri.removeprefix("runs:/").partition("/")[2].strip("/") if uri.startswith("runs:/") else ""
    return cache / path_in_run, version


def load_estimator(uri: str, cache_dir: Path | None = None) -> LoadedModel:
    """Load the nlpops estimator behind any model URI MLflow understands, or a local folder.

    Args:
        uri: ``models:/name@alias``, ``models:/name/3``, ``runs:/id/model``, an MLflow
            model folder, or an nlpops model folder.
        cache_dir: where downloaded models are kept (so a restart works with the server down).
    """
    local = Path(uri)
    if local.exists():
        folder = find_model_folder(local)
        return LoadedModel(model=load_model_dir(folder), name=local.name, uri=uri, folder=folder)
    if ":/" not in uri:
        raise ModelNotFoundError(_not_a_uri(uri))
    cache, version = download_model(uri, cache_dir)
    folder = find_model_folder(cache)
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
