"""GET / and GET /dashboard: HTML served by the app, its assets, the language, no CDN."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from api_support import TinyTfidfLR, fit_tiny
from fastapi.testclient import TestClient

from nlpops.serve.app import create_app
from nlpops.serve.model_holder import ModelHolder
from nlpops.serve.routes.pages import STATIC_DIR, WEB_DIR, examples, messages, model_language, pick_language
from nlpops.settings import Settings
from nlpops.tracking import LoadedModel

ASSET = re.compile(r'(?:src|href)="(/static/[^"?]+)')


def _config(html: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="nlpops-config">(.*?)</script>', html, re.S)
    assert found, "the page embeds no configuration"
    config: dict[str, object] = json.loads(found.group(1))
    return config


@pytest.mark.parametrize("path", ["/", "/dashboard"])
def test_pages_are_html_with_their_assets(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assets = ASSET.findall(response.text)
    assert "/static/css/app.css" in assets and "/static/js/common.js" in assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    assert not re.search(r'(?:src|href)="(?:https?:)?//', response.text), (
        "a page loads something from elsewhere"
    )


def test_index_has_the_labelled_controls_and_the_config(client: TestClient) -> None:
    html = client.get("/").text
    assert '<html lang="en">' in html
    assert '<label for="texts">Texts, one per line</label>' in html
    assert '<label for="csv-file">CSV file</label>' in html
    assert 'id="results" class="results" aria-live="polite"' in html
    config = _config(html)
    assert config["classes"] == ["neg", "pos"] and config["negative_label"] == "neg"
    assert config["max_batch"] == 4 and config["max_text_chars"] == 200  # the test settings
    assert config["max_body_bytes"] == 1 << 20
    assert config["model_language"] == {"codes": ["en"], "source": "labels"}  # neg / pos, no lang
    assert config["messages"] == messages("en")


def test_dashboard_ships_chart_js_and_its_licence(client: TestClient) -> None:
    html = client.get("/dashboard").text
    assert "/static/vendor/chartjs/chart.umd.min.js" in html
    assert html.count("<canvas") == 3 and 'role="img"' in html
    licence = client.get("/static/vendor/chartjs/LICENSE.md")
    assert licence.status_code == 200 and "MIT License" in licence.text


@pytest.mark.parametrize(
    ("query", "header", "lang", "heading"),
    [
        ("", None, "en", "Classify texts"),
        ("?lang=fr", None, "fr", "Classer des textes"),
        ("", "fr-CH, fr;q=0.9, en;q=0.8", "fr", "Classer des textes"),
        ("?lang=en", "fr-FR", "en", "Classify texts"),
        ("?lang=xx", "de-DE", "en", "Classify texts"),
    ],
)
def test_language_from_query_then_browser(
    client: TestClient, query: str, header: str | None, lang: str, heading: str
) -> None:
    headers = {"Accept-Language": header} if header else {}
    html = client.get(f"/{query}", headers=headers).text
    assert f'<html lang="{lang}">' in html
    assert f"<h1>{heading}</h1>" in html


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("de-DE,fr;q=0.8,en;q=0.5", "fr"),
        ("en-US,fr;q=0.9", "en"),
        ("fr;q=0,en;q=0.1", "en"),  # q=0 means "not French"
        ("fr;q=bad, en", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_pick_language(header: str | None, expected: str) -> None:
    assert pick_language(None, header) == expected


def test_every_ui_string_exists_in_both_languages() -> None:
    english, french = messages("en"), messages("fr")
    assert set(english) == set(french)
    used: set[str] = set()
    for template in (WEB_DIR / "templates").glob("*.html"):
        used |= set(re.findall(r"\bt\.(\w+)", template.read_text()))
        used |= set(re.findall(r"""\bt\[["'](\w+)["']\]""", template.read_text()))
    for script in (STATIC_DIR / "js").glob("*.js"):
        used |= set(re.findall(r"""\bt\(\s*["'](\w+)["']""", script.read_text()))
    used.discard("format")  # str.format called on a message
    assert used - set(english) == set(), "strings used but not translated"
    for key, text in english.items():
        assert set(re.findall(r"\{(\w+)\}", text)) == set(re.findall(r"\{(\w+)\}", french[key])), key


def test_our_scripts_fetch_nothing_from_elsewhere() -> None:
    for path in [*(STATIC_DIR / "js").glob("*.js"), STATIC_DIR / "css" / "app.css"]:
        assert not re.search(r"https?://", path.read_text()), path


def test_index_says_when_no_model_is_loaded(settings: Settings, tmp_path: Path) -> None:
    def broken(uri: str, cache: Path | None) -> LoadedModel:
        raise FileNotFoundError(uri)

    holder = ModelHolder("models:/gone@champion", tmp_path, loader=broken, resolver=lambda uri: None)
    with TestClient(create_app(settings, holder=holder)) as client:
        response = client.get("/?lang=en")
    assert response.status_code == 200
    assert "No model is loaded yet" in response.text
    assert _config(response.text)["classes"] == []


def test_pages_are_not_in_the_api_spec(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths and "/dashboard" not in paths
    assert "/v1/stats" in paths


class FrenchTiny(TinyTfidfLR):
    """The tiny model, its settings naming French as nlpops' models do (``lang``, ``recipe``)."""

    def __init__(self, C: float = 10.0, lang: str = "fr", recipe: str = "minimal"):
        super().__init__(C)
        self.lang = lang
        self.recipe = recipe


class Unnamed:
    """A model that names no language and whose labels are not English words."""

    classes_ = ("dissident", "non dissident")


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (FrenchTiny(), {"codes": ["fr"], "source": "settings"}),
        (FrenchTiny(recipe="none"), {"codes": [], "source": None}),  # raw text: lang is unused
        (fit_tiny(), {"codes": ["en"], "source": "labels"}),
        (Unnamed(), {"codes": [], "source": None}),
    ],
)
def test_model_language_says_where_it_comes_from(model: object, expected: dict[str, object]) -> None:
    assert model_language(model) == expected


def _page_for(model: object, settings: Settings, tmp_path: Path, lang: str = "en") -> str:
    def load(uri: str, cache: Path | None) -> LoadedModel:
        return LoadedModel(model=model, name="m", uri=uri)  # type: ignore[arg-type]

    holder = ModelHolder("m", tmp_path, loader=load, resolver=lambda uri: None)
    with TestClient(create_app(settings, holder=holder)) as client:
        return client.get(f"/?lang={lang}").text


def _example_buttons(html: str) -> list[str]:
    return re.findall(r'<button type="button" class="button example" data-text="([^"]*)">', html)


def test_examples_are_in_the_language_the_model_reads(settings: Settings, tmp_path: Path) -> None:
    french = FrenchTiny().fit(["bien", "mal"] * 3, ["pos", "neg"] * 3)
    html = _page_for(french, settings, tmp_path, lang="en")  # the UI's language does not matter
    assert _config(html)["model_language"] == {"codes": ["fr"], "source": "settings"}
    assert _example_buttons(html) == examples()["fr"]
    assert f'placeholder="{examples()["fr"][0]}"' in html
    english = _page_for(fit_tiny(), settings, tmp_path, lang="fr")
    assert len(_example_buttons(english)) == 4 and _example_buttons(english) == examples()["en"]


def test_no_examples_when_the_model_language_is_unknown(settings: Settings, tmp_path: Path) -> None:
    unnamed = TinyTfidfLR().fit(["yes sir", "no way"] * 3, ["dissident", "non dissident"] * 3)
    html = _page_for(unnamed, settings, tmp_path)
    assert _config(html)["model_language"] == {"codes": [], "source": None}
    assert _example_buttons(html) == [] and 'class="examples"' not in html
