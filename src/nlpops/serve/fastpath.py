"""POST /v1/predict for well-formed requests, without FastAPI's per-request machinery.

Profiled under load (wrk, 32 connections, the ``tfidf_lr`` champion, one worker), the process is
bound by the GIL, and FastAPI's work around the endpoint (solving dependencies, the exception and
routing layers, validating the answer again, serialising it through ``jsonable_encoder``) held it
longer than the model did. This ASGI middleware answers a request that is JSON, validates as a
``PredictRequest`` (pydantic-core, in Rust) and fits the limits, through the same
``answer_predict`` as the route and with the same body. Anything else goes on to FastAPI
unchanged, so every error answer (422, 413, 503) and the OpenAPI spec stay FastAPI's:

- a body that is not JSON, not valid, over the limits, or asking for ``split_sentences``;
- no model loaded yet;
- an app with ``dependency_overrides`` (tests swapping the model or the store).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nlpops.serve.deps import Serving
from nlpops.serve.routes import predict
from nlpops.serve.schemas import PredictRequest, PredictResponse

PATH = "/v1/predict"
MAX_BODY = 64 * 1024  # larger bodies are big batches: FastAPI's fixed cost is small beside them
_JSON = b"application/json"
_HEADERS = [(b"content-type", _JSON)]
_ROUTE = next(r for r in predict.router.routes if getattr(r, "path", None) == PATH)


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return value.split(b";")[0].strip().lower() == _JSON
    return False


async def _read_body(receive: Receive) -> tuple[list[Message], bytes | None]:
    """The messages received and the whole body; the body is None when the client left or it
    grew over ``MAX_BODY`` (the messages then hold what was read, to replay)."""
    messages, chunks, size = [], [], 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > MAX_BODY:
            return messages, None
        if not message.get("more_body", False):
            return messages, b"".join(chunks)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that yields ``messages`` again, then reads on from the client."""
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


async def _answer(app: Any, body: bytes) -> bytes | None:
    """The JSON answer to ``body``, or None when FastAPI's route should answer instead."""
    loaded = app.state.holder.current
    if loaded is None:
        return None
    try:
        request = PredictRequest.model_validate_json(body)
    except ValidationError:
        return None
    serving = Serving.of(app.state)
    if request.split_sentences or predict.size_problem(request.all_texts(), serving.settings):
        return None
    response = await predict.answer_predict(request, loaded, serving)
    return PredictResponse.__pydantic_serializer__.to_json(response)


class PredictFastPath:
    """ASGI middleware: answer POST /v1/predict itself when it can (module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = scope.get("app")
        eligible = (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"] == PATH
            and app is not None
            and not app.dependency_overrides
            and _is_json(scope)
        )
        if not eligible:
            await self.app(scope, receive, send)
            return
        scope["route"] = _ROUTE  # as the router sets it: metrics label even a failure /v1/predict
        messages, body = await _read_body(receive)
        answer = await _answer(app, body) if body is not None else None
        if answer is None:
            await self.app(scope, _replay(messages, receive), send)
            return
        headers = [*_HEADERS, (b"content-length", str(len(answer)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})
