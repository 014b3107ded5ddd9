"""``nlpops serve``: the FastAPI service around any model, under uvicorn."""

from __future__ import annotations

import errno
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from nlpops.cli.common import Command, clean_errors, examples, is_mlflow_error, print_warning
from nlpops.errors import UsageError

app = typer.Typer(help="Serve a model over HTTP.", no_args_is_help=True)
EXAMPLES = examples(
    "nlpops serve --model models:/demo@champion",
    "nlpops serve --model models:/demo@champion --host 0.0.0.0 --port 8080 --workers 2",
    "NLPOPS_API_KEY=<a key of 16+ characters> nlpops serve --model models:/demo@champion",
)


def check_port(host: str, port: int) -> None:
    """Bind ``host:port`` once, as uvicorn will, so that a busy port fails now, before the model loads.

    Raises:
        OSError: the port is taken, or not ours to take; the message suggests a free ``--port``.
        UsageError: ``host`` is no address.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise UsageError(f"--host {host}: not an address ({exc.strerror})") from None
    error = _bind_error(family, kind, proto, address)
    if error is None:
        return
    if error.errno == errno.EADDRINUSE:
        why = "is in use (another server?)"
    elif error.errno == errno.EACCES:
        why = "needs more rights (ports below 1024 are root's)"
    else:
        why = f"cannot be used: {error.strerror}"
    free = next(
        (
            p
            for p in range(max(port + 1, 1024), 65536)[:50]
            if _bind_error(family, kind, proto, (address[0], p)) is None
        ),
        None,
    )
    hint = f", e.g. --port {free}" if free is not None else ""
    raise OSError(f"{host}:{port} {why}; choose another port with --port{hint}") from None


def _bind_error(family: int, kind: int, proto: int, address: Any) -> OSError | None:
    """What binding ``address`` raises (None when it binds), with uvicorn's socket options."""
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: TIME_WAIT is free
        try:
            probe.bind(address)
        except OSError as exc:
            return exc
    return None


@contextmanager
def _one_try() -> Iterator[None]:
    """MLflow retries an unreachable tracking server for minutes; the check before starting asks once
    (the server's own loader then waits it out, or serves its cached copy). MLflow's INFO lines (a new
    sqlite store's "Creating initial MLflow database tables") are held back, so a wrong URI is one line.
    """
    import mlflow  # noqa: F401  (its import sets its loggers' levels: quiet them after it)

    saved = {
        key: os.environ.get(key) for key in ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "MLFLOW_HTTP_REQUEST_TIMEOUT")
    }
    os.environ.update(MLFLOW_HTTP_REQUEST_MAX_RETRIES="0", MLFLOW_HTTP_REQUEST_TIMEOUT="10")
    mlflow_logger = logging.getLogger("mlflow")
    level = mlflow_logger.level
    mlflow_logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        mlflow_logger.setLevel(level)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def check_served_model(uri: str) -> None:
    """Refuse a model that does not exist; when the store does not answer, warn and go on."""
    from nlpops.tracking import check_model

    try:
        with _one_try():
            check_model(uri)
    except Exception as exc:
        if not is_mlflow_error(exc):
            raise
        first = str(getattr(exc, "message", exc)).strip().splitlines()[0]
        print_warning(
            f"cannot check {uri} ({first}); starting anyway: the server retries, or serves its cached copy"
        )


def _browsable(host: str) -> str:
    """The host part of a URL a browser on this machine can open."""
    if host in {"0.0.0.0", ""}:
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


@app.command("serve", cls=Command, epilog=EXAMPLES)
def serve(
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            metavar="URI",
            help="models:/name@champion, models:/name/3, runs:/id/model or a model folder "
            "(default: NLPOPS_MODEL_URI).",
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    database_url: Annotated[
        str | None, typer.Option(help="SQLAlchemy URL of the feedback store (default: NLPOPS_DATABASE_URL).")
    ] = None,
    reload_interval: Annotated[
        float | None, typer.Option(help="Seconds between registry polls; 0 = never.")
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    access_log: Annotated[
        bool, typer.Option(help="Log every request (Prometheus already counts them at /metrics).")
    ] = False,
    workers: Annotated[
        int,
        typer.Option(help="Server processes (0 = one per CPU core); each loads the model and batches alone."),
    ] = 1,
) -> None:
    """Serve a model over HTTP: a page to classify texts (/), a dashboard, the API (/docs)."""
    import uvicorn

    from nlpops.serve.app import create_app
    from nlpops.serve.protocol import PROTOCOL
    from nlpops.settings import MIN_API_KEY_CHARS, get_settings

    overrides: dict[str, Any] = {
        "model_uri": model,
        "database_url": database_url,
        "reload_interval_s": reload_interval,
    }
    settings = get_settings().model_copy(update={k: v for k, v in overrides.items() if v is not None})
    workers = workers if workers > 0 else len(os.sched_getaffinity(0))
    with clean_errors():  # fail before anything loads: a busy port, a model that does not exist
        check_port(host, port)
        check_served_model(settings.model_uri)
        if workers > 1:
            from nlpops.serve.db import Store

            store = Store(settings.database_url)  # migrate once here, not in every worker at the same time
            store.check()
            store.close()
    url = f"http://{_browsable(host)}:{port}"
    typer.echo(f"serving {settings.model_uri} on http://{host}:{port} with {workers} worker(s)")
    typer.echo(f"open {url}/ (classify), /dashboard, /docs")
    if settings.api_key is None:
        typer.echo(
            "admin routes are off (reload, alerts, feedback export): set NLPOPS_API_KEY to a key of at "
            f"least {MIN_API_KEY_CHARS} characters to turn them on"
        )
    typer.echo(f"answered predictions are spooled in {settings.resolved_spool_dir()} until stored")
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": log_level,
        "access_log": access_log,
        "http": PROTOCOL,  # header size and time limits (serve/protocol.py)
    }
    if workers == 1:
        uvicorn.run(create_app(settings), **options)
        return
    # Worker processes build their own app from the environment: hand the overrides down that way.
    for key, value in overrides.items():
        if value is not None:
            os.environ[f"NLPOPS_{key.upper()}"] = str(value)
    uvicorn.run("nlpops.serve.app:create_app", factory=True, workers=workers, **options)


if __name__ == "__main__":  # python -m nlpops.cli.serve --model ...
    app()
