"""Admin routes: the API key, alert listing and POST /v1/admin/reload."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import ADMIN, fit_tiny
from fastapi.testclient import TestClient

from nlpops.serve.app import create_app
from nlpops.serve.model_holder import ModelHolder
from nlpops.settings import Settings
from nlpops.tracking import LoadedModel


class VersionedLoader:
    """Loads version 1, 2, 3… on each call, or fails when told to."""

    def __init__(self) -> None:
        self.calls = 0
        self.fail = False

    def __call__(self, uri: str, cache_dir: Path | None) -> LoadedModel:
        if self.fail:
            raise ConnectionError("registry down")
        self.calls += 1
        return LoadedModel(model=fit_tiny(), name="tiny", version=str(self.calls), alias="champion", uri=uri)


@pytest.fixture
def loader() -> VersionedLoader:
    return VersionedLoader()


@pytest.fixture
def admin_client(settings: Settings, loader: VersionedLoader) -> Iterator[TestClient]:
    holder = ModelHolder("models:/tiny@champion", None, loader=loader, resolver=lambda uri: "1")
    with TestClient(create_app(settings, holder=holder)) as client:
        yield client


@pytest.mark.parametrize(("method", "path"), [("get", "/v1/alerts"), ("post", "/v1/admin/reload")])
@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}, {"X-API-Key": ""}])
def test_admin_routes_need_the_key(
    client: TestClient, method: str, path: str, headers: dict[str, str]
) -> None:
    response = client.request(method, path, headers=headers)
    assert response.status_code == 401
    assert "X-API-Key" in response.json()["detail"]


def test_alerts_empty(client: TestClient) -> None:
    assert client.get("/v1/alerts", headers=ADMIN).json() == []


def test_reload_swaps_the_model(admin_client: TestClient) -> None:
    assert admin_client.get("/v1/model").json()["version"] == "1"
    response = admin_client.post("/v1/admin/reload", headers=ADMIN)
    assert response.status_code == 200
    assert response.json() == {
        "reloaded": True,
        "previous_version": "1",
        "version": "2",
        "message": "now serving tiny version 2",
    }
    assert admin_client.get("/v1/model").json()["version"] == "2"
    assert 'nlpops_model_info{name="tiny",version="2"} 1.0' in admin_client.get("/metrics").text


def test_failed_reload_keeps_the_model(admin_client: TestClient, loader: VersionedLoader) -> None:
    loader.fail = True
    response = admin_client.post("/v1/admin/reload", headers=ADMIN)
    assert response.status_code == 503
    assert "registry down" in response.json()["detail"]
    assert "still serving version 1" in response.json()["detail"]
    assert admin_client.get("/v1/model").json()["version"] == "1"
    assert admin_client.post("/v1/predict", json={"text": "great"}).status_code == 200
