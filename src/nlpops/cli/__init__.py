"""The ``nlpops`` command line: one typer app, a sub-app or command per pipeline stage."""

from __future__ import annotations

from typing import Annotated

import typer

from nlpops import __version__
from nlpops.cli import data as data_cli
from nlpops.cli import evaluate as evaluate_cli
from nlpops.cli import export as export_cli
from nlpops.cli import models as models_cli
from nlpops.cli import monitor as monitor_cli
from nlpops.cli import predict as predict_cli
from nlpops.cli import serve as serve_cli
from nlpops.cli import skills as skills_cli
from nlpops.cli import tune as tune_cli
from nlpops.cli import watch as watch_cli
from nlpops.cli.common import Command, Group, Options, examples

app = typer.Typer(
    name="nlpops",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=Group,
    epilog=examples(
        "nlpops train configs/demo.yaml",
        'nlpops predict --model models:/demo@champion "great flight"',
        "nlpops serve --model models:/demo@champion",
        "nlpops <command> --help",
    ),
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"nlpops {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback of an error instead of one line.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Train, compare, serve and watch NLP models."""
    Options.debug = debug


app.add_typer(data_cli.app, name="data")
for name, command, epilog in (
    ("train", models_cli.train, models_cli.EXAMPLES["train"]),
    ("compare", models_cli.compare, models_cli.EXAMPLES["compare"]),
    ("evaluate", evaluate_cli.evaluate, evaluate_cli.EXAMPLES),
    ("predict", predict_cli.predict, predict_cli.EXAMPLES),
    ("tune", tune_cli.tune, tune_cli.EXAMPLES),
    ("export-onnx", export_cli.export_onnx, export_cli.EXAMPLES),
    ("serve", serve_cli.serve, serve_cli.EXAMPLES),
    ("watch", watch_cli.watch, watch_cli.EXAMPLES),
    ("drift", monitor_cli.drift, monitor_cli.EXAMPLES["drift"]),
    ("retrain", monitor_cli.retrain, monitor_cli.EXAMPLES["retrain"]),
):
    app.command(name, cls=Command, epilog=epilog)(command)
app.add_typer(monitor_cli.feedback_app, name="feedback")
app.add_typer(skills_cli.app, name="skills")


def main() -> None:
    """Entry point used by ``python -m nlpops``."""
    app()
