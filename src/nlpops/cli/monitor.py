"""``nlpops drift | feedback export | retrain``: watch the served model's inputs and learn from feedback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from nlpops.cli.common import Command, Group, ModelOpt, clean_errors, console, examples, quiet_libraries
from nlpops.cli.models import ConfigArg, SetOpt

EXAMPLES = {
    "drift": examples(
        "nlpops drift --model models:/sentiment140@champion "
        "--current ../shared/data/twitter_us_airline_sentiment_tweets.csv.gz --out reports/drift",
        "nlpops drift --model models:/demo@champion --current new_posts.csv --text-col tweet --json",
    ),
    "retrain": examples(
        "nlpops retrain configs/sentiment140.yaml --models tfidf_lr --feedback-db sqlite:///nlpops.db",
    ),
    "export": examples("nlpops feedback export --database-url sqlite:///nlpops.db --out feedback.csv"),
}
feedback_app = typer.Typer(
    help="The verdicts users and reviewers gave on served predictions.", no_args_is_help=True, cls=Group
)


def drift(
    model: ModelOpt,
    current: Annotated[
        Path, typer.Option(metavar="FILE", help="The texts to test: any file the loaders read.")
    ],
    text_col: Annotated[
        str | None, typer.Option(metavar="COLUMN", help="Text column of a generic file.")
    ] = None,
    reference: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE", help="Test against this file instead of the model's saved reference profile."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")] = False,
    out: Annotated[
        Path | None, typer.Option(metavar="DIR", help="Folder for report.html, the plots and drift.json.")
    ] = None,
) -> None:
    """Do the texts of --current still look like the model's training data? Exit 0 either way."""
    from nlpops.data import load_dataset
    from nlpops.drift import Profile, build_profile, compare, write_report
    from nlpops.outputs import check_out_dir, staged_dir
    from nlpops.tracking import load_estimator

    quiet_libraries()
    with clean_errors():
        if out is not None:
            check_out_dir(out)
        columns = {"text": text_col} if text_col else None
        with console.status("loading the model and the texts…"):
            loaded = load_estimator(model)
            texts = load_dataset(current, columns=columns)["text"].astype(str).tolist()
        with console.status(f"testing {len(texts):,} texts…"):
            if reference is not None:
                ref_texts = load_dataset(reference, columns=columns)["text"]
                ref_list = ref_texts.astype(str).tolist()
                profile = build_profile(loaded.model, ref_list, ref_list)
            else:
                if loaded.folder is None:
                    raise FileNotFoundError(f"{model}: no model folder to read the reference profile from")
                profile = Profile.load(loaded.folder)
            report = compare(profile, loaded.model, texts)
        if out is not None:
            with staged_dir(out) as stage:  # all or nothing in --out
                write_report(report, stage, f"Drift of {current.name} against {model}")
    if as_json:
        typer.echo(json.dumps(report.to_json() | {"model": model, "current": str(current)}))
        return
    table = Table(title=f"{current.name} against {model}")
    for col in ("feature", "PSI", "p-value", "verdict"):
        table.add_column(col)
    for f in report.features:
        table.add_row(
            f.feature, f"{f.psi:.3f}", f"{f.p_value:.2g}", "[red]drift[/]" if f.drifted else "stable"
        )
    console.print(table)
    verdict = {True: "[bold red]drift detected[/]", False: "[green]no drift[/]", None: "no verdict"}
    console.print(f"{verdict[report.drift_detected]} ({report.n_current:,} texts) {report.reason}")
    if out is not None:
        console.print(f"report: {out / 'report.html'}")


@feedback_app.command("export", cls=Command, epilog=EXAMPLES["export"])
def feedback_export(
    database_url: Annotated[str, typer.Option(metavar="URL", help="SQLAlchemy URL of the service's store.")],
    out: Annotated[
        Path, typer.Option(metavar="FILE", help="A .csv or .parquet file (the extension picks the format).")
    ],
) -> None:
    """Write the verdicts as labelled rows: text, label, prediction_id, model version, time."""
    from nlpops.retrain import export_feedback, write_table

    quiet_libraries()
    with clean_errors():
        frame = export_feedback(database_url)
        write_table(frame, out)
    console.print(f"{len(frame):,} labelled rows → {out}")


def retrain(
    config: ConfigArg,
    feedback_db: Annotated[str, typer.Option(metavar="URL", help="SQLAlchemy URL of the service's store.")],
    models: Annotated[
        str | None, typer.Option(metavar="NAMES", help="Comma-separated model names from the config.")
    ] = None,
    set_: SetOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")] = False,
) -> None:
    """Train a challenger on the training split plus the feedback; promote it only if it is better."""
    from nlpops.config import load_config
    from nlpops.retrain import retrain as run_retrain

    quiet_libraries()
    with clean_errors():
        cfg = load_config(config, set_ or [])
        names = [m.strip() for m in models.split(",") if m.strip()] if models else None
        with console.status("retraining with the feedback…"):
            result = run_retrain(cfg, feedback_db, names)
    if as_json:
        typer.echo(json.dumps(result.to_json(), default=str))
        return
    table = Table(title=f"{cfg.registered_model}: champion vs challenger")
    table.add_column("")
    keys = sorted({k for side in (result.champion, result.challenger) for k in side if k not in ("uri",)})
    for key in keys:
        table.add_column(key)
    for name, side in (("champion", result.champion), ("challenger", result.challenger)):
        table.add_row(name, *[_fmt(side.get(k)) for k in keys])
    console.print(table)
    console.print(f"feedback: {result.feedback}")
    console.print("promoted: the service picks it up at its next poll" if result.promoted else "not promoted")


def _fmt(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else "-" if value is None else str(value)
