"""Hot reload: polling the registry, atomic swaps, failed loads, the disk cache, the poll task."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from api_support import fit_tiny
from fastapi.testclient import TestClient

from nlpops.serve.app import create_app
from nlpops.serve.model_holder import ModelHolder, ModelLoadError
from nlpops.settings import Settings
from nlpops.tracking import LoadedModel

URI = "models:/tiny@champion"


class Registry:
    """A fake registry: ``version`` is where the alias points; loads can be made to fail."""

    def __init__(self) -> None:
        self.version = "1"
        self.fail = False
        self.loads = 0

    def load(self, uri: str, cache_dir: Path | None) -> LoadedModel:
        if self.fail:
            raise ConnectionError("MLflow server down")
        self.loads += 1
        return LoadedModel(model=fit_tiny(), name="tiny", version=self.version, alias="champion", uri=uri)

    def resolve(self, uri: str) -> str | None:
        if self.fail:
            raise ConnectionError("MLflow server down")
        return self.version


@pytest.fixture
def registry() -> Registry:
    return Registry()


@pytest.fixture
def holder(registry: Registry, tmp_path: Path) -> ModelHolder:
    holder = ModelHolder(URI, tmp_path / "cache", loader=registry.load, resolver=registry.resolve)
    assert holder.load_initial()
    return holder


def test_poll_does_nothing_while_the_version_stays(holder: ModelHolder, registry: Registry) -> None:
    first = holder.current
    assert holder.poll() is None
    assert holder.current is first and registry.loads == 1


def test_poll_swaps_when_the_alias_moves(holder: ModelHolder, registry: Registry) -> None:
    in_flight = holder.current  # what a running request holds
    assert in_flight is not None
    registry.version = "2"
    outcome = holder.poll()
    assert outcome is not None and (outcome.previous_version, outcome.version) == ("1", "2")
    assert holder.current is not in_flight and holder.current is not None
    assert holder.current.version == "2"
    assert in_flight.model.predict(["great"])[0] == "pos"  # the old object still works


def test_a_failed_load_keeps_the_old_model(holder: ModelHolder, registry: Registry) -> None:
    first = holder.current
    registry.version, registry.fail = "2", True
    assert holder.poll() is None  # resolving fails: logged, kept
    with pytest.raises(ModelLoadError, match="MLflow server down"):
        holder.reload()
    assert holder.current is first


def test_poll_keeps_the_model_when_only_the_load_fails(holder: ModelHolder, registry: Registry) -> None:
    first = holder.current
    registry.version = "2"
    holder.loader = lambda uri, cache: (_ for _ in ()).throw(OSError("disk full"))
    assert holder.poll() is None
    assert holder.current is first


def test_cold_start_uses_the_disk_cache(holder: ModelHolder, registry: Registry, tmp_path: Path) -> None:
    registry.fail = True
    restarted = ModelHolder(URI, tmp_path / "cache", loader=registry.load, resolver=registry.resolve)
    assert restarted.load_initial()
    assert restarted.current is not None
    assert (restarted.current.version, restarted.current.alias) == ("1", "champion")
    assert restarted.current.model.predict(["awful"])[0] == "neg"


def test_no_model_and_no_cache(registry: Registry, tmp_path: Path) -> None:
    registry.fail = True
    holder = ModelHolder(URI, tmp_path / "empty", loader=registry.load, resolver=registry.resolve)
    assert not holder.load_initial()
    assert holder.current is None
    assert holder.poll() is None
    registry.fail = False
    outcome = holder.poll()  # the next poll retries the first load
    assert outcome is not None and holder.current is not None


def test_the_app_polls_in_the_background(settings: Settings, registry: Registry) -> None:
    holder = ModelHolder(URI, None, loader=registry.load, resolver=registry.resolve)
    app = create_app(settings.model_copy(update={"reload_interval_s": 0.05}), holder=holder)
    with TestClient(app) as client:
        assert client.get("/v1/model").json()["version"] == "1"
        registry.version = "7"
        deadline = time.monotonic() + 5
        while client.get("/v1/model").json()["version"] != "7" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.get("/v1/model").json()["version"] == "7"


def test_no_model_means_503(settings: Settings, registry: Registry, tmp_path: Path) -> None:
    registry.fail = True
    holder = ModelHolder(URI, tmp_path / "none", loader=registry.load, resolver=registry.resolve)
    with TestClient(create_app(settings, holder=holder)) as client:
        response = client.post("/v1/predict", json={"text": "hello"})
        assert response.status_code == 503
        assert "no model loaded yet" in response.json()["detail"]
        assert client.get("/v1/model").status_code == 503
