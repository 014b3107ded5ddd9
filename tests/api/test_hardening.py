"""Malformed and hostile requests get a fast, small 4xx; no client can stall the others; no default
secret opens the admin routes; every answer carries the security headers; the docs work offline."""

from __future__ import annotations

import asyncio
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_support import API_KEY
from fastapi.testclient import TestClient
from live_server import LiveServer
from pydantic import ValidationError

from nlpops.serve.app import create_app
from nlpops.serve.limits import BoundedPool, BusyError, FailureLimiter
from nlpops.settings import Settings

JSON = {"content-type": "application/json"}
MALFORMED = [
    ("/v1/predict", b'{"text": NaN}'),
    ("/v1/predict", b'{"texts": ["fine", Infinity]}'),
    ("/v1/feedback", b'{"prediction_id": "x", "correct": NaN}'),
    ("/v1/explain", b'{"text": -Infinity}'),
    ("/v1/predict", b'{"text": "\\ud800"}'),
    ("/v1/predict", b'{"texts": ["ok", "a \\udfff b"]}'),
    ("/v1/feedback", b'{"prediction_id": "\\ud800", "correct": true}'),
    ("/v1/explain", b'{"text": "\\ud83d"}'),
    ("/v1/predict", b"[" * 50_000 + b"]" * 50_000),
    ("/v1/predict", b'{"texts": ' + b"[" * 5_000 + b"]" * 5_000 + b"}"),
    ("/v1/predict", b'{"text": 12}'),
    ("/v1/feedback", b'{"prediction_id": ["x"], "correct": "maybe"}'),
]


@pytest.mark.parametrize(("path", "body"), MALFORMED, ids=lambda v: str(v)[:30])
def test_malformed_requests_are_small_fast_4xx(client: TestClient, path: str, body: bytes) -> None:
    start = time.perf_counter()
    response = client.post(path, content=body, headers=JSON)
    assert 400 <= response.status_code < 500, response.text
    assert len(response.content) < 1500 and time.perf_counter() - start < 1.0


def test_a_huge_invalid_list_is_not_echoed(client: TestClient) -> None:
    body = b'{"texts": [' + b",".join([b"0"] * 300_000) + b"]}"  # 0.6 MB: was a 30 MB echo in 9.5 s
    start = time.perf_counter()
    response = client.post("/v1/predict", content=body, headers=JSON)
    assert response.status_code == 422
    assert len(response.content) < 1000 and time.perf_counter() - start < 1.0
    assert response.json()["errors"] >= 1


def test_validation_errors_show_at_most_five_short_inputs(client: TestClient) -> None:
    response = client.post("/v1/predict", json={"texts": [None] * 3, "text": "x" * 10_000, "extra": 1})
    body = response.json()
    assert response.status_code == 422 and len(body["detail"]) <= 5
    assert all(len(item.get("input", "")) <= 60 for item in body["detail"])


@pytest.fixture
def small_body_client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings.model_copy(update={"max_body_bytes": 4096}))) as client:
        yield client


def test_bodies_over_the_limit_are_413(small_body_client: TestClient) -> None:
    big = b'{"text": "' + b"a" * 5000 + b'"}'
    response = small_body_client.post("/v1/predict", content=big, headers=JSON)
    assert response.status_code == 413 and "4,096 bytes" in response.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        yield b'{"text": "'
        for _ in range(10):
            yield b"a" * 1000
        yield b'"}'

    streamed = small_body_client.post("/v1/feedback", content=chunks(), headers=JSON)
    assert streamed.status_code == 413
    assert small_body_client.post("/v1/predict", json={"text": "fine"}).status_code == 200


def test_security_headers_on_every_answer(client: TestClient) -> None:
    answers = [
        client.get("/health"),
        client.post("/v1/predict", json={"text": "ok"}),
        client.post("/v1/predict", content=b"{", headers=JSON),
        client.get("/nowhere"),
        client.get("/static/css/app.css"),
        client.get("/"),
        client.get("/docs"),
    ]
    for response in answers:
        assert response.headers["x-content-type-options"] == "nosniff", response.url
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"


def test_docs_are_served_offline_from_the_installed_assets(client: TestClient) -> None:
    for page, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        html = client.get(page).text
        assert f"/docs-assets/{asset}" in html and "cdn" not in html.lower()
        assert "<script>" not in html  # no inline script: the page's policy allows 'self' only
        assert client.get(f"/docs-assets/{asset}").status_code == 200
    assert client.get("/static/js/docs.js").status_code == 200


# --- admin key -------------------------------------------------------------------------------------
def test_without_a_key_the_admin_routes_are_off(settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"api_key": None}))) as client:
        for response in (
            client.post("/v1/admin/reload"),
            client.get("/v1/feedback"),
            client.get("/v1/alerts"),
        ):
            assert response.status_code == 403
            assert "NLPOPS_API_KEY" in response.json()["detail"]
        default = client.post("/v1/admin/reload", headers={"X-API-Key": "change-me"})
        assert default.status_code == 403  # the old default opens nothing


def test_a_short_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="at least 16 characters"):
        Settings(_env_file=None, api_key="change-me")


def test_repeated_wrong_keys_are_rate_limited(settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"admin_failures_per_min": 3}))) as client:
        for _ in range(3):
            assert client.get("/v1/alerts", headers={"X-API-Key": "wrong-key-0123456789"}).status_code == 401
        blocked = client.get("/v1/alerts", headers={"X-API-Key": API_KEY})
        assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0


def test_the_failure_limiter_forgets_after_a_minute() -> None:
    now = [0.0]
    limiter = FailureLimiter(2, clock=lambda: now[0])
    limiter.fail("a")
    limiter.fail("a")
    assert limiter.blocked_for("a") == 60 and limiter.blocked_for("b") == 0
    now[0] = 61.0
    assert limiter.blocked_for("a") == 0


# --- the explain pool ----------------------------------------------------------------------------
def test_the_bounded_pool_refuses_past_its_capacity() -> None:
    pool = BoundedPool(workers=1, queue=1, name="explain")

    async def flood() -> list[object]:
        calls = [pool.run(time.sleep, 0.3) for _ in range(4)]
        return await asyncio.gather(*calls, return_exceptions=True)

    outcomes = asyncio.run(flood())
    busy = [o for o in outcomes if isinstance(o, BusyError)]
    assert len(busy) == 2 and all(b.retry_after_s >= 1 for b in busy)
    pool.close()


@pytest.fixture
def live(model_dir: Path, tmp_path: Path) -> Iterator[LiveServer]:
    env = {
        "NLPOPS_EXPLAIN_SAMPLES": "3000",  # a slow explanation: ~0.1 s and more
        "NLPOPS_HEADER_TIMEOUT_S": "1",
        "NLPOPS_MAX_HEADER_BYTES": "8192",
        "NLPOPS_EXPLAIN_PROCESSES": "true",
    }
    server = LiveServer(f"sqlite:///{tmp_path / 'live.db'}", model_dir, tmp_path, env=env, cli=True).start()
    try:
        yield server
    finally:
        server.stop()


FLOOD = """
import asyncio, sys, time
import httpx

base, seconds = sys.argv[1], float(sys.argv[2])
statuses = {}
stop = time.monotonic() + seconds


async def explainer(client, i):
    while time.monotonic() < stop:
        response = await client.post("/v1/explain", json={"text": f"I really love this flight number {i}"})
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if response.status_code == 429:
            assert int(response.headers["Retry-After"]) >= 1
            await asyncio.sleep(0.2)  # back at once, long before Retry-After


async def main():
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        await asyncio.gather(*(explainer(client, i) for i in range(48)))


asyncio.run(main())
print(statuses.get(200, 0), statuses.get(429, 0), sum(statuses.values()))
"""


def test_health_stays_fast_while_explain_is_flooded(live: LiveServer) -> None:
    """48 clients keep asking for explanations (a process of their own, so that their client work
    does not hold this process's interpreter lock); ``/health`` answers as usual meanwhile."""
    flood = subprocess.Popen([sys.executable, "-c", FLOOD, live.base, "4"], stdout=subprocess.PIPE, text=True)
    latencies: list[float] = []
    time.sleep(0.5)  # the flood is on
    with httpx.Client(base_url=live.base, timeout=10) as client:
        while flood.poll() is None:
            start = time.perf_counter()
            assert client.get("/health").status_code == 200
            latencies.append((time.perf_counter() - start) * 1000)
            time.sleep(0.02)
    answered, refused, total = (int(n) for n in flood.communicate()[0].split())
    assert flood.returncode == 0
    assert answered > 0 and refused > 0, (answered, refused, total)
    assert answered + refused == total, "an explanation got neither an answer nor a 429"
    p99 = statistics.quantiles(latencies[:-1], n=100)[98]  # the last probe may overlap the flood's exit
    median = statistics.median(latencies)
    summary = f"/health p99 {p99:.1f} ms, median {median:.1f} ms ({len(latencies)} probes)"
    assert p99 < 100, summary


def _raw(port: int, data: bytes, wait_s: float = 5) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=wait_s) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def test_oversized_headers_are_431(live: LiveServer) -> None:
    request = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 50_000 + b"\r\n\r\n"
    assert _raw(live.port, request).startswith(b"HTTP/1.1 431")
    long_url = b"GET /health?" + b"q" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    assert _raw(live.port, long_url).startswith(b"HTTP/1.1 431")
    assert httpx.get(f"{live.base}/health").status_code == 200


def test_half_sent_requests_are_closed_after_the_header_timeout(live: LiveServer) -> None:
    start = time.monotonic()
    answer = _raw(live.port, b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Ty")
    assert answer.startswith(b"HTTP/1.1 408") and time.monotonic() - start < 3
    start = time.monotonic()
    assert _raw(live.port, b"") == b"" and time.monotonic() - start < 3  # an idle connection too


def _workers_of(pid: int) -> set[int]:
    """The explanation worker processes ``pid`` started (read from /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid and b"spawn_main" in cmdline:
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_the_explanation_worker_exits_with_a_killed_server(model_dir: Path, tmp_path: Path) -> None:
    env = {"NLPOPS_EXPLAIN_PROCESSES": "true"}
    server = LiveServer(f"sqlite:///{tmp_path / 'kill.db'}", model_dir, tmp_path, env=env, cli=True).start()
    try:
        answer = httpx.post(f"{server.base}/v1/explain", json={"text": "I love it"}, timeout=30)
        assert answer.status_code == 200
        assert server.proc is not None
        workers = _workers_of(server.proc.pid)
        assert workers, "the explanation ran in no worker process"
    finally:
        server.kill()
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers), "a worker outlived the server's kill -9"
