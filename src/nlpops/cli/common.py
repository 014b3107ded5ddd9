"""Helpers shared by the CLI commands: one clear error line, progress output."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)


@contextmanager
def clean_errors() -> Iterator[None]:
    """Turn expected failures (bad file, bad config, bad value) into one red line and exit code 1."""
    try:
        yield
    except typer.Exit:
        raise
    except (ValueError, KeyError, TypeError, FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc
    except OSError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc


def quiet_libraries() -> None:
    """Keep third-party loggers (MLflow, alembic) from drowning the CLI output."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")  # read by mlflow when it is imported
    for name in ("mlflow", "alembic", "urllib3", "git"):
        logging.getLogger(name).setLevel(logging.ERROR)
