"""``nlpops serve``: the FastAPI service around any model, under uvicorn."""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer

from nlpops.cli.common import Command, examples

app = typer.Typer(help="Serve a model over HTTP.", no_args_is_help=True)
EXAMPLES = examples(
    "nlpops serve --model models:/demo@champion",
    "nlpops serve --model models:/demo@champion --host 0.0.0.0 --port 8080 --workers 2",
    "NLPOPS_API_KEY=<a key of 16+ characters> nlpops serve --model models:/demo@champion",
)


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
    typer.echo(f"serving {settings.model_uri} on http://{host}:{port} with {workers} worker(s) (docs: /docs)")
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
    from nlpops.serve.db import Store

    store = Store(settings.database_url)  # migrate once here, not in every worker at the same time
    store.check()
    store.close()
    # Worker processes build their own app from the environment: hand the overrides down that way.
    for key, value in overrides.items():
        if value is not None:
            os.environ[f"NLPOPS_{key.upper()}"] = str(value)
    uvicorn.run("nlpops.serve.app:create_app", factory=True, workers=workers, **options)


if __name__ == "__main__":  # python -m nlpops.cli.serve --model ...
    app()
