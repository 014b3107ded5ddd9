"""uvicorn's httptools protocol with a size and a time limit on the request line and headers.

httptools reads headers of any size (a 50 MB header was accepted) and uvicorn sets no deadline on
a request whose headers never end (2,000 half-sent requests stayed open). This subclass answers
``431`` once the request line and headers pass ``max_header_bytes``, and closes a connection that
has not sent whole headers within ``header_timeout_s`` of opening or of starting a request (``408``).
Its limits come from the settings (``NLPOPS_MAX_HEADER_BYTES``, ``NLPOPS_HEADER_TIMEOUT_S``), so
every worker process built from an import string reads the same ones.

Use: ``uvicorn.run(..., http="nlpops.serve.protocol:GuardedHttpToolsProtocol")``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from nlpops.settings import get_settings

PROTOCOL = "nlpops.serve.protocol:GuardedHttpToolsProtocol"
_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` with ``max_header_bytes`` and ``header_timeout_s`` (module docstring)."""

    max_header_bytes: int | None = None  # None: read from the settings at the first connection
    header_timeout_s: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cls = type(self)
        if cls.max_header_bytes is None:
            settings = get_settings()
            cls.max_header_bytes = settings.max_header_bytes
            cls.header_timeout_s = settings.header_timeout_s
        self._header_bytes = 0
        self._refused = False
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self._refused:
            super().data_received(data)

    def send_400_response(self, msg: str) -> None:
        if not self._refused:  # the parser stops on our refusal; that answer is sent already
            super().send_400_response(msg)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes = 0
        self._arm()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def _count(self, n: int) -> None:
        self._header_bytes += n
        limit = type(self).max_header_bytes or 0
        if self._header_bytes > limit:
            self._refuse(431, f"the request line and headers are over {limit:,} bytes")
            raise ValueError("headers too large")  # stops the parser (caught by uvicorn as a parse error)

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(type(self).header_timeout_s, self._timed_out)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _timed_out(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or self._refused:
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being answered: its headers were whole
        if self._header_bytes == 0 and self.headers is None:
            self.transport.close()  # opened and never used: nothing to answer
            self._refused = True
            return
        self._refuse(408, f"the request headers did not arrive within {type(self).header_timeout_s:g} s")

    def _refuse(self, status: int, message: str) -> None:
        self._refused = True
        self._disarm()
        body = message.encode()
        head = b"HTTP/1.1 %d %s\r\n" % (status, _REASONS[status])
        head += b"content-type: text/plain; charset=utf-8\r\ncontent-length: %d\r\n" % len(body)
        self.transport.write(head + b"connection: close\r\n\r\n" + body)
        self.transport.close()
