"""Small, safe answers to malformed requests.

FastAPI's default ``422`` echoes every failing input whole: a 0.6 MB list of numbers became a 30 MB
answer built in 9.5 s, while other requests waited; an input holding ``NaN`` could not be written
as JSON at all (a 500). Here a 422 names at most ``MAX_ERRORS`` problems, each input cut to a short
``repr``, so the answer stays a few hundred bytes whatever was sent.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

MAX_ERRORS = 5
MAX_INPUT_CHARS = 60


def short_repr(value: Any, limit: int = MAX_INPUT_CHARS) -> str:
    """``repr(value)`` cut to ``limit`` characters (containers are not walked past the cut).

    >>> short_repr("x" * 100, 10)
    "'xxxxxx…"
    """
    if isinstance(value, list | dict) and len(value) > limit:
        value = value[:limit] if isinstance(value, list) else dict(list(value.items())[:limit])
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "…"


def compact_errors(errors: list[Any]) -> dict[str, Any]:
    """The first ``MAX_ERRORS`` validation errors with short inputs, and how many there were."""
    shown = []
    for error in errors[:MAX_ERRORS]:
        item = {
            "loc": [str(part)[:MAX_INPUT_CHARS] for part in error.get("loc", ())][:10],
            "msg": str(error.get("msg", ""))[:200],
            "type": str(error.get("type", "")),
        }
        if "input" in error:
            item["input"] = short_repr(error["input"])
        shown.append(item)
    return {"detail": shown, "errors": len(errors)}


async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """422 with :func:`compact_errors` of a ``RequestValidationError``."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return JSONResponse(compact_errors(list(errors)), status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)
