"""The web pages: ``GET /`` (classify, explain, give feedback, upload a CSV) and ``GET /dashboard``.

Server-rendered Jinja2 templates and a little vanilla JavaScript that calls the JSON API; every
asset (CSS, JS, Chart.js) is served from ``/static`` by this app, so the pages work offline.
The UI speaks English and French: ``?lang=fr`` wins, then the browser's ``Accept-Language``.
The classify page also says which language the model reads, and offers example texts in it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from nlpops import __version__
from nlpops.models.language import declared_languages
from nlpops.models.target import target_label
from nlpops.serve.deps import HolderDep, SettingsDep
from nlpops.serve.model_holder import ModelHolder
from nlpops.settings import Settings

router = APIRouter(include_in_schema=False)
WEB_DIR = Path(__file__).resolve().parents[1] / "web"
STATIC_DIR = WEB_DIR / "static"
LANGUAGES = ("en", "fr")
EXPLAINED_LINES = 10  # LIME costs ~0.1-0.5 s a text: explain the first lines only
# Label names that are English words: a model that names no language but these is taken as English.
ENGLISH_LABELS = frozenset(
    {
        "positive", "negative", "neutral", "pos", "neg", "neu", "yes", "no", "true", "false",
        "spam", "ham", "good", "bad", "other", "none", "anger", "joy", "sadness", "fear",
        "surprise", "love", "disgust", "toxic", "relevant", "irrelevant", "complaint",
    }
)  # fmt: skip


@lru_cache(maxsize=1)
def templates() -> Jinja2Templates:
    """The page templates (built on first use, not at import)."""
    return Jinja2Templates(directory=WEB_DIR / "templates")


@lru_cache(maxsize=len(LANGUAGES))
def messages(lang: str) -> dict[str, str]:
    """The UI strings of ``lang`` (``web/messages/<lang>.json``), shared by templates and scripts."""
    strings: dict[str, str] = json.loads((WEB_DIR / "messages" / f"{lang}.json").read_text("utf-8"))
    return strings


@lru_cache(maxsize=1)
def examples() -> dict[str, list[str]]:
    """Example texts per language code (``web/examples.json``), offered as buttons on ``/``."""
    by_language: dict[str, list[str]] = json.loads((WEB_DIR / "examples.json").read_text("utf-8"))
    return by_language


def model_language(model: Any) -> dict[str, Any]:
    """What the page says of the language ``model`` reads: ``codes`` and where they come from.

    ``source`` is ``"settings"`` when the model's settings name its languages, ``"labels"`` when they
    name none but every label is an English word (English is then assumed, and the page says so), and
    None when nothing is known (no language is claimed and no text is warned about).
    """
    codes = declared_languages(model)
    if codes:
        return {"codes": codes, "source": "settings"}
    classes = [str(c).strip().lower() for c in getattr(model, "classes_", [])]
    if classes and all(c in ENGLISH_LABELS for c in classes):
        return {"codes": ["en"], "source": "labels"}
    return {"codes": [], "source": None}


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
    language = model_language(loaded.model) if loaded else {"codes": [], "source": None}
    base = request.scope.get("root_path", "").rstrip("/")
    config: dict[str, Any] = {
        "base": base,
        "lang": lang,
        "classes": classes,
        "negative_label": target_label(loaded.model) if loaded else None,
        "model_language": language,
        "max_batch": min(settings.max_batch, 256),
        "max_body_bytes": settings.max_body_bytes,
        "max_text_chars": settings.max_text_chars,
        "explained_lines": EXPLAINED_LINES,
        "messages": messages(lang),
    } | (extra or {})
    # examples in the language the model reads most; none when it is not known or has none
    reads = language["codes"][0] if language["codes"] else None
    context = {
        "t": messages(lang),
        "lang": lang,
        "base": base,
        "version": __version__,
        "config": config,
        "model": loaded,
        "examples": examples().get(reads, []) if reads else [],
    } | (extra or {})
    return templates().TemplateResponse(request, template, context)  # headers: app.py


LangQuery = Annotated[str | None, Query(description="UI language: en or fr.")]
AcceptLanguage = Annotated[str | None, Header()]
Renderer = Callable[..., HTMLResponse]  # (template, extra=None) -> the page


def page_renderer(
    request: Request,
    holder: HolderDep,
    settings: SettingsDep,
    lang: LangQuery = None,
    accept_language: AcceptLanguage = None,
) -> Renderer:
    """A page's renderer: the template name in, the page in the language asked for (``?lang=``, then
    the browser's), with the model and settings the scripts need."""
    chosen = pick_language(lang, accept_language)
    return lambda template, extra=None: render_page(request, template, chosen, holder, settings, extra)


PageDep = Annotated[Renderer, Depends(page_renderer)]


@router.get("/", response_class=HTMLResponse)
def index_page(page: PageDep) -> HTMLResponse:
    """Classify texts, see why, say whether it was right; classify a CSV file."""
    return page("index.html")


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(page: PageDep) -> HTMLResponse:
    """Predictions, negative share against its baseline, feedback accuracy, drift, top terms, alerts."""
    return page("dashboard.html")


@router.get("/review", response_class=HTMLResponse)
def review_page(page: PageDep) -> HTMLResponse:
    """The review queue, keyboard first; its data needs the admin key, typed in the page and kept
    in the page's memory only (not in storage, not in the URL)."""
    return page("review.html")
