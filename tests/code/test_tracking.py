"""Tracking: pyfunc round trip, URI loading, and the champion rule against a temp sqlite store."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest

from nlpops.models import build_model
from nlpops.outputs import filled_once
from nlpops.tracking import (
    ModelNotFoundError,
    check_model,
    download_model,
    find_model_folder,
    load_estimator,
    log_model,
    parse_registry_uri,
    register_and_promote,
    resolve_version,
    setup_tracking,
)


def _logged(tmp_path: Path, texts: list[str], labels: list[str], C: float = 1.0) -> tuple[str, str, object]:
    model = build_model("tfidf_lr", {"C": C}).fit(texts, labels)
    folder = model.save(tmp_path / f"model-{C}")
    with mlflow.start_run() as run:
        uri = log_model(model, folder, texts[:3])
    return uri, run.info.run_id, model


@pytest.mark.parametrize(
    ("uri", "parts"),
    [
        ("models:/m@champion", ("m", "champion", None)),
        ("models:/m/3", ("m", None, "3")),
        ("models:/m", ("m", None, None)),
    ],
)
def test_parse_registry_uri(uri: str, parts: tuple) -> None:
    assert parse_registry_uri(uri) == parts


def test_pyfunc_round_trip_matches_estimator(mlflow_store: str, tmp_path: Path, tiny_data) -> None:
    texts, labels = tiny_data
    setup_tracking("t")
    uri, _, model = _logged(tmp_path, texts, labels)
    frame = mlflow.pyfunc.load_model(uri).predict(pd.DataFrame({"text": texts[:5]}))
    assert list(frame.columns) == ["label", "proba_negative", "proba_positive"]
    np.testing.assert_allclose(
        frame[["proba_negative", "proba_positive"]].to_numpy(), model.predict_proba(texts[:5])
    )
    loaded = load_estimator(uri)
    np.testing.assert_allclose(loaded.model.predict_proba(texts), model.predict_proba(texts))


def test_champion_moves_only_on_improvement(mlflow_store: str, tmp_path: Path, tiny_data) -> None:
    texts, labels = tiny_data
    setup_tracking("t")
    uri1, run1, _ = _logged(tmp_path, texts, labels, C=1.0)
    first = register_and_promote("m", uri1, run1, "accuracy", 0.80, "split-a", scorer=lambda m: 0.80)
    assert first.promoted and first.version == "1" and resolve_version("models:/m@champion") == "1"

    uri2, run2, _ = _logged(tmp_path, texts, labels, C=2.0)
    worse = register_and_promote("m", uri2, run2, "accuracy", 0.70, "split-a", scorer=lambda m: 0.80)
    assert not worse.promoted and worse.version == "2"
    assert resolve_version("models:/m@champion") == "1"

    uri3, run3, _ = _logged(tmp_path, texts, labels, C=3.0)
    better = register_and_promote("m", uri3, run3, "accuracy", 0.90, "split-a", scorer=lambda m: 0.80)
    assert better.promoted and resolve_version("models:/m@champion") == "3"
    loaded = load_estimator("models:/m@champion")
    assert loaded.version == "3" and loaded.alias == "champion" and loaded.name == "m"


def test_champion_is_rescored_on_a_different_split(mlflow_store: str, tmp_path: Path, tiny_data) -> None:
    texts, labels = tiny_data
    setup_tracking("t")
    uri1, run1, _ = _logged(tmp_path, texts, labels)
    register_and_promote("m", uri1, run1, "accuracy", 0.99, "split-a", scorer=lambda m: 0.99)
    calls: list[object] = []

    def scorer(model: object) -> float:
        calls.append(model)
        return 0.5  # the old champion does badly on the new split

    uri2, run2, _ = _logged(tmp_path, texts, labels, C=2.0)
    result = register_and_promote("m", uri2, run2, "accuracy", 0.6, "split-b", scorer=scorer)
    assert calls and result.promoted and result.champion_score == 0.5


def test_load_estimator_from_plain_folder(tmp_path: Path, tiny_data) -> None:
    texts, labels = tiny_data
    model = build_model("tfidf_lr", {}).fit(texts, labels)
    loaded = load_estimator(str(model.save(tmp_path / "m")))
    assert list(loaded.model.classes_) == ["negative", "positive"]


def test_an_empty_registry_says_how_to_fill_it(mlflow_store: str) -> None:
    with pytest.raises(ModelNotFoundError) as err:
        load_estimator("models:/nope@champion")
    assert str(err.value) == (
        f"models:/nope@champion: no registered model named 'nope' (tracking store {mlflow_store}); "
        "no model is registered yet; run `nlpops train configs/demo.yaml` (or `make demo`)"
    )


@pytest.fixture
def registry(mlflow_store: str, tmp_path: Path, tiny_data) -> str:
    """A store where ``m`` has v1 (@champion) and v2 (no alias), and ``plain`` has v1 (no alias);
    returns the run id behind ``m`` v1."""
    texts, labels = tiny_data
    setup_tracking("t")
    uri, run_id, _ = _logged(tmp_path, texts, labels)
    register_and_promote("m", uri, run_id, "accuracy", 0.9, "s", scorer=lambda m: 0.9)
    register_and_promote("m", uri, run_id, "accuracy", 0.8, "s", scorer=lambda m: 0.9)
    mlflow.register_model(uri, "plain")
    return run_id


@pytest.mark.parametrize(
    ("uri", "missing"),
    [
        ("models:/nope@champion", "no registered model named 'nope'"),
        ("models:/m@nope", "m has no alias @nope"),
        ("models:/m/999", "m has no version 999"),
        ("models:/m/abc", "m has no version abc"),
        ("models:/nope", "no registered model named 'nope'"),
        ("models:/m", "name a version or an alias of m: models:/m/1, models:/m@champion"),
        ("runs:/abc/model", "no run 'abc'"),
        ("runs:/{run}/nomodel", "run {run} has no model or artifact at 'nomodel'"),
    ],
)
def test_a_wrong_uri_says_what_is_missing_and_what_is_registered(
    registry: str, mlflow_store: str, uri: str, missing: str
) -> None:
    uri, missing = uri.format(run=registry), missing.format(run=registry)
    registered = "registered: m@champion (v1), plain (v1, no alias)"
    for attempt in (load_estimator, download_model, check_model):
        with pytest.raises(ModelNotFoundError) as err:
            attempt(uri)
        assert str(err.value) == f"{uri}: {missing} (tracking store {mlflow_store}); {registered}", attempt


@pytest.mark.parametrize("uri", ["models:/m@champion", "models:/m/2", "runs:/{run}/model"])
def test_check_model_accepts_what_exists(registry: str, uri: str) -> None:
    check_model(uri.format(run=registry))  # no error
    assert load_estimator(uri.format(run=registry)).model.classes_.tolist() == ["negative", "positive"]


def test_a_runs_uri_without_a_path_is_refused(mlflow_store: str) -> None:
    with pytest.raises(ValueError, match="runs:/<run id>/model"):
        check_model("runs:/abc")


def test_only_a_model_folder_or_an_mlflow_model_folder_is_a_model(tmp_path: Path, tiny_data) -> None:
    texts, labels = tiny_data
    model = build_model("tfidf_nb").fit(texts, labels)
    assert find_model_folder(model.save(tmp_path / "plain")) == tmp_path / "plain"
    mlflow_folder = tmp_path / "mlflow"
    model.save(mlflow_folder / "artifacts" / "model")
    (mlflow_folder / "MLmodel").write_text("artifact_path: model\n")
    assert find_model_folder(mlflow_folder) == mlflow_folder / "artifacts" / "model"
    # a folder that merely holds models (a cache, a project) is no model: which one would it be?
    with pytest.raises(FileNotFoundError, match="not a model folder"):
        find_model_folder(tmp_path)
    with pytest.raises(FileNotFoundError, match="not a model folder"):
        load_estimator(str(tmp_path))
    model.save(mlflow_folder / "artifacts" / "other")
    with pytest.raises(FileNotFoundError, match=r"artifacts/ holds 2 nlpops models \(model, other\)"):
        find_model_folder(mlflow_folder)


def _load_after(barrier: Any, uri: str, queue: Any) -> None:
    barrier.wait()
    try:
        queue.put(load_estimator(uri).model.predict(["great flight"])[0])
    except Exception as err:  # reported to the parent, which asserts
        queue.put(repr(err))


def test_processes_downloading_one_model_at_once_all_load_it(
    mlflow_store: str, tmp_path: Path, tiny_data
) -> None:
    # `nlpops serve --workers 2`: the workers fill the same cache entry at the same moment
    texts, labels = tiny_data
    setup_tracking("t")
    uri, _, model = _logged(tmp_path, texts, labels)
    ctx = multiprocessing.get_context("fork")
    barrier, queue = ctx.Barrier(4), ctx.Queue()
    procs = [ctx.Process(target=_load_after, args=(barrier, uri, queue)) for _ in range(4)]
    for proc in procs:
        proc.start()
    results = [queue.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(30)
    assert results == [model.predict(["great flight"])[0]] * 4
    cache = tmp_path / "cache"
    assert [p.name for p in cache.iterdir() if p.name.endswith(".tmp")] == []


def test_filled_once_keeps_the_first_writer(tmp_path: Path) -> None:
    final = tmp_path / "entry"
    with filled_once(final) as first, filled_once(final) as second:
        (first / "who").write_text("first")
        (second / "who").write_text("second")
    assert (final / "who").read_text() == "second"  # the inner block finished (renamed) first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["entry"]
    with pytest.raises(ValueError), filled_once(tmp_path / "failed"):
        raise ValueError("half-way")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["entry"]


def test_the_logged_requirement_names_the_extras_the_model_needs(
    mlflow_store: str, tmp_path: Path, tiny_data
) -> None:
    """A model served elsewhere installs what it loads: ``nlpops`` alone has no French pipeline."""
    texts, labels = tiny_data
    setup_tracking("t")
    model = build_model("spacy_vectors", {"spacy_model": "fr_core_news_md"}).fit(texts, labels)
    folder = model.save(tmp_path / "vectors")
    with mlflow.start_run():
        uri = log_model(model, folder, texts[:3])
    lines = Path(mlflow.artifacts.download_artifacts(uri), "requirements.txt").read_text().split()
    assert [line for line in lines if line.startswith("nlpops")] == ["nlpops[fr]"]  # MLflow pins itself too


def test_required_extras_read_every_member() -> None:
    from nlpops.models.ensemble import SoftVoting
    from nlpops.models.extras import pip_requirement, required_extras

    vote = SoftVoting(members=[{"kind": "tfidf_lr"}, {"kind": "tfidf_lr"}])
    vote.members_ = [
        build_model("tfidf_lr"),
        build_model("sentence_lr", {"checkpoint": "e5-small-multilingual"}),
        build_model("spacy_vectors", {"spacy_model": "fr_core_news_md"}),
    ]
    assert required_extras(vote) == ["fr", "transformers"]
    assert pip_requirement(vote) == "nlpops[fr,transformers]"
    assert pip_requirement(build_model("bilstm")) == "nlpops[deep]"
    assert pip_requirement(build_model("tfidf_lr")) == "nlpops"
