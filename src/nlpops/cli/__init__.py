"""The ``nlpops`` command line: one typer app, a sub-app or command per pipeline stage."""

from __future__ import annotations

import typer

from nlpops.cli import data as data_cli
from nlpops.cli import export as export_cli
from nlpops.cli import models as models_cli
from nlpops.cli import monitor as monitor_cli
from nlpops.cli import serve as serve_cli
from nlpops.cli import skills as skills_cli
from nlpops.cli import tune as tune_cli
from nlpops.cli import watch as watch_cli

app = typer.Typer(
    name="nlpops",
    help="Train, compare, serve and watch NLP models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(data_cli.app, name="data")
app.command("train")(models_cli.train)
app.command("compare")(models_cli.compare)
app.command("evaluate")(models_cli.evaluate)
app.command("predict")(models_cli.predict)
app.command("tune")(tune_cli.tune)
app.command("export-onnx")(export_cli.export_onnx)

app.command("serve")(serve_cli.serve)
app.command("watch")(watch_cli.watch)
app.command("drift")(monitor_cli.drift)
app.command("retrain")(monitor_cli.retrain)
app.add_typer(monitor_cli.feedback_app, name="feedback")
app.add_typer(skills_cli.app, name="skills")


def main() -> None:
    """Entry point used by ``python -m nlpops``."""
    app()
