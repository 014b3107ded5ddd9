"""Helpers shared by the CLI commands: one clear error line, progress output, tidy --help."""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from nlpops.errors import MissingColumnError, NlpopsError

console = Console()
err_console = Console(stderr=True)
ModelOpt = Annotated[
    str,
    typer.Option(
        "--model",
        metavar="URI",
        help="models:/name@champion, models:/name/3, runs:/id/model or a model folder.",
    ),
]
EXPECTED_ERRORS = (NlpopsError, OSError)  # a user's mistake or the system's: one line, no traceback
PASS_THROUGH = (typer.Exit, typer.Abort, typer.BadParameter)  # typer reports these itself


class Options:
    """The global options of this run (``nlpops --debug …``), set by the root command."""

    debug = False


def print_error(message: str) -> None:
    """The one red ``error:`` line on stderr."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def print_warning(message: str) -> None:
    """A yellow ``warning:`` line on stderr: the command goes on."""
    err_console.print(f"[yellow]warning:[/] {escape(message)}", highlight=False, soft_wrap=True)


def is_mlflow_error(exc: BaseException) -> bool:
    """An MLflow error (a store that cannot be reached, a bad URI); mlflow is not imported for this."""
    module = sys.modules.get("mlflow.exceptions")
    return module is not None and isinstance(exc, module.MlflowException)


@contextmanager
def clean_errors() -> Iterator[None]:
    """Turn a user's mistake into one red ``error:`` line and exit code 1; show a bug's traceback.

    A user's mistake is an :class:`~nlpops.errors.NlpopsError` (bad config, file, value, a model
    that does not exist), an ``OSError`` (a file, the disk, the network) or an MLflow error (a store
    that cannot be reached); anything else is a bug, so its traceback is printed before the
    ``error:`` line. ``--debug`` lets every error through with its traceback.
    """
    try:
        yield
    except PASS_THROUGH:
        raise
    except Exception as exc:
        if Options.debug:
            raise
        if isinstance(exc, EXPECTED_ERRORS):
            message = str(exc)
        elif is_mlflow_error(exc):
            message = str(getattr(exc, "message", exc)).strip().splitlines()[0]
        else:
            traceback.print_exception(exc, file=sys.stderr)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            message = f"unexpected {type(exc).__name__}: {first} (a bug: the traceback is above)"
        print_error(message)
        raise typer.Exit(1) from exc


@contextmanager
def column_hint(*options: str) -> Iterator[None]:
    """Say which options name the columns when a file lacks one (``--text-col``, ``--label-col``)."""
    try:
        yield
    except MissingColumnError as exc:
        what = "column" if len(options) == 1 else "columns"
        raise MissingColumnError(f"{exc}; name the {what} with {' / '.join(options)}") from exc


def quiet_libraries() -> None:
    """Keep third-party loggers (MLflow, alembic) from drowning the CLI output."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")  # read by mlflow when it is imported
    for name in ("mlflow", "alembic", "urllib3", "git"):
        logging.getLogger(name).setLevel(logging.ERROR)


class _TypeFreeArgument(TyperArgument):
    """An argument whose --help shows its metavar alone, not the Python type beside it."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None if self.metavar else super().display_type_rich(ctx)


def _tidy_help(params: list[Any]) -> list[Any]:
    """typer prints every parameter's Python type in --help (``<bool>``, ``<list[str]>``): a flag
    takes no value, so it shows none, and an argument with a metavar shows only that."""
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag:
            param.metavar = ""
        elif isinstance(param, TyperArgument) and param.metavar:
            param.__class__ = _TypeFreeArgument
    return params


class Command(TyperCommand):
    """A command with a tidy --help (see :func:`_tidy_help`)."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _tidy_help(super().get_params(ctx))


class Group(TyperGroup):
    """A command group with a tidy --help (see :func:`_tidy_help`)."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _tidy_help(super().get_params(ctx))

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """``nlpops predict … --debug`` means ``nlpops --debug predict …``: people add it at the end."""
        if ctx.parent is None and "--debug" in args:
            end = args.index("--") if "--" in args else len(args)
            if "--debug" in args[:end]:
                args = ["--debug", *(a for a in args[:end] if a != "--debug"), *args[end:]]
        return list(super().parse_args(ctx, args))


def number(value: Any, digits: int = 4) -> str:
    """A table cell: a float with ``digits`` decimals, an integer as is, a missing or NaN value as "-"."""
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def examples(*lines: str) -> str:
    """An "Examples" epilog for --help: one command per line (rich markup escaped)."""
    return "[bold]Examples[/]\n\n" + "\n".join(escape(line) for line in lines)
