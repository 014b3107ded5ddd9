"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), served offline from the assets of the
``fastapi-offline`` package (FastAPI's own pages load them from a CDN: blank without the internet).

The pages start their viewers from a script file of ours, not an inline script, so that the
scripts policy stays ``'self'`` as on every page; ReDoc needs inline styles and a blob: worker,
which its policy allows.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)
ASSETS_DIR = Path(str(files("fastapi_offline") / "static"))
ASSETS_URL = "/docs-assets"
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>nlpops API - {title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="{assets}/favicon.png">{css}</head>
<body><div id="viewer" data-spec="{spec}" data-viewer="{viewer}"></div>
<script src="{assets}/{bundle}"></script><script src="{base}/static/js/docs.js"></script>
</body></html>"""


def _page(request: Request, title: str, viewer: str, bundle: str, css: str = "") -> HTMLResponse:
    base = request.scope.get("root_path", "").rstrip("/")
    assets = base + ASSETS_URL
    html = _PAGE.format(
        title=title,
        assets=assets,
        css=f'<link rel="stylesheet" href="{assets}/{css}">' if css else "",
        spec=f"{base}/openapi.json",
        viewer=viewer,
        bundle=bundle,
        base=base,
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": DOCS_CSP})


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    """The API, to read and try (Swagger UI)."""
    return _page(request, "Swagger UI", "swagger", "swagger-ui-bundle.js", "swagger-ui.css")


@router.get("/redoc", response_class=HTMLResponse)
def redoc(request: Request) -> HTMLResponse:
    """The API reference (ReDoc)."""
    return _page(request, "ReDoc", "redoc", "redoc.standalone.js")
