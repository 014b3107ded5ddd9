"""schemathesis against the OpenAPI spec of a running server: no input gives a 5xx.

The server is a real uvicorn process on a free loopback port (the tiny model, a fresh PostgreSQL
schema), and schemathesis generates requests from its ``/openapi.json``, admin key included, so the
admin routes are reached too. Examples per operation are bounded (``MAX_EXAMPLES``) to keep it short.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from api_support import ADMIN, API_KEY
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from live_server import LiveServer
from schemathesis import GenerationMode
from sqlalchemy import Engine, create_engine, text

from nlpops.serve.db import Store

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
MAX_EXAMPLES = 30
PG_URL = os.environ.get("NLPOPS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> Iterator[LiveServer]:
    """One server for every operation; its own PostgreSQL schema (skips when the server is down)."""
    schema, url = _fresh_schema()
    live = LiveServer(
        url,
        model_dir,
        tmp_path_factory.mktemp("fuzz"),
        {"NLPOPS_API_KEY": API_KEY, "NLPOPS_EXPLAIN_SAMPLES": "40", "NLPOPS_MAX_BATCH": "8"},
    ).start()
    try:
        yield live
    finally:
        live.stop()
        _drop_schema(schema)


def _fresh_schema() -> tuple[str, str]:
    admin: Engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
    schema = f"nlpops_fuzz_{uuid.uuid4().hex[:10]}"
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as err:
        pytest.skip(f"PostgreSQL unreachable at {PG_URL}: {type(err).__name__}: {err}")
    finally:
        admin.dispose()
    store = Store(f"{PG_URL}?options=-csearch_path%3D{schema}")
    store.close()
    return schema, store.url


def _drop_schema(schema: str) -> None:
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def server_errors(base: str, max_examples: int) -> dict[str, str]:
    """Fuzz every operation of the server's spec, ``max_examples`` valid and as many invalid inputs
    each; the 5xx found, by operation."""
    spec = schemathesis.openapi.from_url(f"{base}/openapi.json")
    found: dict[str, str] = {}
    operations = [result.ok() for result in spec.get_all_operations()]
    for operation, mode in itertools.product(operations, (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=max_examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.generate],  # no shrinking: report the first failing request as it came
        )
        def call(case: schemathesis.Case) -> None:
            response = case.call(base_url=base, headers=ADMIN, timeout=30)
            if response.status_code >= 500:
                found.setdefault(
                    case.operation.label,
                    f"{response.status_code} for {case.method} {case.formatted_path} "
                    f"query={case.query} body={case.body!r}: {response.text[:300]}",
                )

        try:
            call()
        except Unsatisfiable:  # no invalid input exists (an operation without parameters)
            assert mode is GenerationMode.NEGATIVE, operation.label
    return found


def test_no_server_error(fuzz_server: LiveServer) -> None:
    found = server_errors(fuzz_server.base, MAX_EXAMPLES)
    assert found == {}, "\n".join(f"{op}: {what}" for op, what in found.items())
