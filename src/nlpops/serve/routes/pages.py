"""The web pages: ``GET /`` (classify, explain, give feedback, upload a CSV) and ``GET /dashboard``.

Server-rendered Jinja2 templates and a little vanilla JavaScript that calls the JSON API; every
asset (CSS, JS, Chart.js) is served from ``/static`` by this app, so the pages work offline.
The UI speaks English and French: ``?lang=fr`` wins, then the browser's ``Accept-Language``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from nlpops import __version__
from nlpops.serve.deps import HolderDep, SettingsDep
from nlpops.serve.model_holder import ModelHolder
from nlpops.serve.routes.stats import guess_negative_label
from nlpops.settings import Settings

router = APIRouter(include_in_schema=False)
WEB_DIR = Path(__file__).resolve().parents[1] / "web"
STATIC_DIR = WEB_DIR / "static"
LANGUAGES = ("en", "fr")
EXPLAINED_LINES = 10  # LIME costs ~0.1-0.5 s a text: explain the first lines only


@lru_cache(maxsize=1)
def templates() -> Jinja2Templates:
    """The page templates (built on first use, not at import)."""
    return Jinja2Templates(directory=WEB_DIR / "templates")


@lru_cache(maxsize=len(LANGUAGES))
def messages(lang: str) -> dict[str, str]:
    """The UI strings of ``lang`` (``web/messages/<lang>.json``), shared by templates and scripts."""
    strings: dict[str, str] = json.loads((WEB_DIR / "messages" / f"{lang}.json").read_text("utf-8"))
    return strings


def pick_language(lang: str | None, accept_language: str | None) -> str:
    """``lang`` when supported, else the browser's preferred supported language, else English.

    >>> pick_language(None, "de-DE,fr;q=0.8,en;q=0.5")
    'fr'
    """
    if lang in LANGUAGES:
        return str(lang)
    ranked: list[tuple[float, str]] = []
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        quality = params.strip().removeprefix("q=")
        try:
            ranked.append((float(quality) if quality else 1.0, tag.split("-")[0].lower()))
        except ValueError:
            continue  # a malformed q-value: ignore that entry, not the header
    ranked.sort(key=lambda pair: -pair[0])  # stable: equal q keep the browser's order
    return next((code for q, code in ranked if q > 0 and code in LANGUAGES), "en")


def render_page(
    request: Request,
    template: str,
    lang: str,
    holder: ModelHolder,
    settings: Settings,
    extra: dict[str, Any] | None = None,
) -> HTMLResponse:
    """Render ``template`` with the UI strings and the settings the scripts need (plus ``extra``,
    the page's own, in both the template context and the scripts' config)."""
    loaded = holder.current
    classes = [str(c) for c in loaded.model.classes_] if loaded else []
    base = request.scope.get("root_path", "").rstrip("/")
    config: dict[str, Any] = {
        "base": base,
        "lang": lang,
        "classes": classes,
        "negative_label": guess_negative_label(classes),
        "max_batch": min(settings.max_batch, 256),
        "max_text_chars": settings.max_text_chars,
        "explained_lines": EXPLAINED_LINES,
        "messages": messages(lang),
    } | (extra or {})
    context = {
        "t": messages(lang),
        "lang": lang,
        "base": base,
        "version": __version__,
        "config": config,
        "model": loaded,
    } | (extra or {})
    return templates().TemplateResponse(request, template, context)  # headers: app.py


LangQuery = Annotated[str | None, Query(description="UI language: en or fr.")]
AcceptLanguage = Annotated[str | None, Header()]


@router.get("/", response_class=HTMLResponse)
def index_page(
    request: Request,
    holder: HolderDep,
    settings: SettingsDep,
    lang: LangQuery = None,
    accept_language: AcceptLanguage = None,
) -> HTMLResponse:
    """Classify texts, see why, say whether it was right; classify a CSV file."""
    return render_page(request, "index.html", pick_language(lang, accept_language), holder, settings)


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(
    request: Request,
    holder: HolderDep,
    settings: SettingsDep,
    lang: LangQuery = None,
    accept_language: AcceptLanguage = None,
) -> HTMLResponse:
    """Predictions, negative share and feedback accuracy over time; alerts; the model served."""
    return render_page(request, "dashboard.html", pick_language(lang, accept_language), holder, settings)


@router.get("/review", response_class=HTMLResponse)
def review_page(
    request: Request,
    holder: HolderDep,
    settings: SettingsDep,
    lang: LangQuery = None,
    accept_language: AcceptLanguage = None,
) -> HTMLResponse:
    """The review queue, keyboard first; its data needs the admin key, typed in the page and kept
    in the page's memory only (not in storage, not in the URL)."""
    return render_page(request, "review.html", pick_language(lang, accept_language), holder, settings)
