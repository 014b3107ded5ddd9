"""``nlpops skills …``: skills extraction from job postings (ruler, doccano import, NER, scores, report)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from nlpops.cli.common import Command, Group, clean_errors, console, examples, quiet_libraries
from nlpops.errors import ConfigError, DataError, NlpopsError, TrackingError, UsageError
from nlpops.skills.schema import LABELS

app = typer.Typer(
    help="Skills extraction from job postings (spaCy ruler + NER).", no_args_is_help=True, cls=Group
)

ModelOpt = Annotated[
    str,
    typer.Option(
        "--model",
        metavar="URI",
        help="A spaCy pipeline folder, an MLflow model folder, models:/skills@champion, runs:/id/model.",
    ),
]
FileArg = Annotated[Path, typer.Argument(help="Input file.")]


def _load(model: str) -> Any:
    """The skills pipeline behind ``model``; MLflow's errors become one clear line."""
    from mlflow.exceptions import MlflowException

    from nlpops.skills.model import load_skills_model

    try:
        return load_skills_model(model)
    except MlflowException as exc:
        raise TrackingError(f"{model}: {exc.message}") from exc


@contextmanager
def _bad_file() -> Iterator[None]:
    """The skills readers (doccano, skill lists, postings) raise ``ValueError`` for a file they cannot
    use: that is the user's file, not a bug, so it becomes a :class:`DataError` (one ``error:`` line)."""
    try:
        yield
    except NlpopsError:
        raise
    except ValueError as exc:
        raise DataError(str(exc)) from exc


@app.command(
    "build-ruler",
    cls=Command,
    epilog=examples(
        "nlpops skills build-ruler $NLPOPS_DATA_DIR/ner_jobs_skills_*.csv.gz --out patterns.jsonl",
        "nlpops skills build-ruler $NLPOPS_DATA_DIR/ner_jobs_skills_*.csv.gz --pipeline --out ruler/",
    ),
)
def build_ruler(
    lists: Annotated[
        list[Path],
        typer.Argument(
            metavar="CSV", help="Skill-list CSVs (name column); the label comes from the file name."
        ),
    ],
    out: Annotated[Path, typer.Option(help="Patterns JSONL, or a folder for a ruler-only spaCy pipeline.")],
    aliases: Annotated[Path | None, typer.Option(help="Aliases TSV (alias, canonical, label).")] = None,
    pipeline: Annotated[
        bool, typer.Option(help="Save a runnable ruler-only pipeline folder instead.")
    ] = False,
    lang: Annotated[str, typer.Option(help="Tokenizer language (en or fr).")] = "fr",
) -> None:
    """Skill-list CSVs → EntityRuler patterns (case-insensitive; ambiguous names need context)."""
    from nlpops.skills.patterns import build_ruler_patterns, write_patterns

    with clean_errors():
        with _bad_file():
            patterns = build_ruler_patterns(lists, aliases, lang)
        if pipeline:
            from nlpops.skills.ner import ruler_pipeline

            ruler_pipeline(patterns, lang).to_disk(out)
        else:
            write_patterns(patterns, out)
    console.print(f"{len(patterns)} patterns → {out}")


@app.command(
    "import-doccano",
    cls=Command,
    epilog=examples(
        "nlpops skills import-doccano $NLPOPS_DATA_DIR/ner_jobs_doccano_reviewed.jsonl.gz --out train.spacy"
    ),
)
def import_doccano(
    file: FileArg,
    out: Annotated[Path, typer.Option(help="spaCy DocBin (.spacy) to write.")],
    preannotated: Annotated[
        Path | None, typer.Option(help="The pre-annotation JSONL: tells reviewed copies apart.")
    ] = None,
    lang: Annotated[str, typer.Option(help="Tokenizer language (en or fr).")] = "fr",
    keep_duplicates: Annotated[bool, typer.Option(help="Keep every copy of a repeated text.")] = False,
) -> None:
    """doccano JSONL → spaCy DocBin, with a report of spans that do not fall on tokens."""
    import spacy

    from nlpops.skills.doccano import read_doccano, resolve_duplicates, to_docs, write_docbin
    from nlpops.skills.tokens import split_glued_words

    with clean_errors():
        with _bad_file():
            records = read_doccano(file)
            pre = read_doccano(preannotated) if preannotated and not keep_duplicates else None
        if not keep_duplicates:
            records = resolve_duplicates(records, pre)
        docs, report = to_docs(split_glued_words(spacy.blank(lang)), records)
        write_docbin(docs, out)
    for issue in report.issues:
        console.print(
            f"  {issue.record} [{issue.start}:{issue.end}] {issue.label} {issue.text!r}: {issue.action}",
            highlight=False,
        )
    console.print(
        f"{report.rows} texts, {report.spans} spans: {report.fixed} fixed, {report.dropped} dropped → {out}"
    )


@app.command(
    "train",
    cls=Command,
    epilog=examples(
        "nlpops skills train configs/skills.yaml",
        "nlpops skills train configs/skills.yaml --set training.max_epochs=5",
    ),
)
def train(
    config: Annotated[Path, typer.Argument(help="Skills config (YAML), e.g. configs/skills.yaml.")],
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="KEY=VALUE", help="Override a config key (repeatable): split.seed=7."),
    ] = None,
) -> None:
    """Cross-validate (chooses the served combination), train, score on held-out texts, log, register."""
    from nlpops.skills.config import load_skills_config
    from nlpops.skills.run import train_skills

    quiet_libraries()
    with clean_errors():
        cfg = load_skills_config(config, set_ or [])
        with _progress() as (on_fold, epoch_callback):
            run = train_skills(cfg, epoch_callback, on_fold)
    if run.cv is not None:
        console.print(cv_table(run.cv.summary(), f"{run.cv.folds}-fold cross-validation by distinct text"))
    chosen = "chosen by cross-validation" if run.cv is not None else "cv.folds: 0"
    console.print(f"served mode: {run.mode} ({chosen}); ruler: {run.lexicon}")
    console.print(scores_table(run.scores, f"held-out distinct texts ({len(run.split.test)})"))
    p = run.promotion
    console.print(
        f"registered {p.name} v{p.version}; champion: {'moved' if p.promoted else 'kept'} ({p.reason})"
    )


@contextmanager
def _progress() -> Iterator[tuple[Callable[[str, int, int], None], Callable[[int, float], None]]]:
    """A progress line for the folds and one for the training epochs."""
    from rich.progress import Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("starting")

        def on_fold(kind: str, fold: int, folds: int) -> None:
            bar.update(task, description=f"cross-validation: {kind}, fold {fold}/{folds}")

        def epoch_callback(epoch: int, loss: float) -> None:
            bar.update(task, description=f"final model: epoch {epoch}, loss {loss:.3g}")

        yield on_fold, epoch_callback


def scores_table(scores: dict[str, dict], title: str) -> Table:
    """Per-label and micro F1 (P/R) of each mode as a rich table."""
    table = Table(title=title)
    for col in ("mode", *LABELS, "micro P", "micro R", "micro F1"):
        table.add_column(col)
    for mode, s in scores.items():
        labels = [f"{s['per_label'][label]['f1']:.3f}" for label in LABELS]
        table.add_row(
            mode, *labels, f"{s['micro_precision']:.3f}", f"{s['micro_recall']:.3f}", f"{s['micro_f1']:.3f}"
        )
    return table


def cv_table(summary: dict[str, dict], title: str) -> Table:
    """Cross-validated rows: per-label F1 and micro P / R / F1, each as mean ± sd over the folds."""
    caption = (
        "+guidelines: the ruler has the data files' names only; "
        "the other rows also learn the gold names of each fold's training texts"
    )
    table = Table(title=title, caption=caption)
    table.add_column("row", no_wrap=True)
    for col in (*(f"{label} F1" for label in LABELS), "micro P", "micro R", "micro F1"):
        table.add_column(col)
    for row, s in summary.items():
        labels = [_pm(s["per_label"][label]["f1"]) for label in LABELS]
        table.add_row(row, *labels, _pm(s["precision"]), _pm(s["recall"]), _pm(s["f1"]))
    return table


def _pm(value: tuple[float, float]) -> str:
    return f"{value[0]:.3f} ± {value[1]:.3f}"


@app.command(
    "evaluate",
    cls=Command,
    epilog=examples(
        "nlpops skills evaluate --model models:/skills@champion "
        "--data $NLPOPS_DATA_DIR/ner_jobs_doccano_reviewed.jsonl.gz",
        "nlpops skills evaluate --cv configs/skills.yaml --json",
    ),
)
def evaluate(
    model: Annotated[
        str | None,
        typer.Option(
            "--model", metavar="URI", help="A pipeline folder or models:/skills@champion: scored on --data."
        ),
    ] = None,
    data: Annotated[Path | None, typer.Option(metavar="FILE", help="doccano JSONL with gold spans.")] = None,
    cv: Annotated[
        Path | None,
        typer.Option(
            "--cv",
            metavar="CONFIG",
            help="A skills config: k-fold cross-validation of its pipelines (on --data if given).",
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="KEY=VALUE", help="Override a config key (repeatable): split.seed=7."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")] = False,
) -> None:
    """Span P / R / F1 per label and micro: a model's on gold data (every mode it can run), and/or each
    pipeline's mean ± sd in cross-validation by distinct text."""
    quiet_libraries()
    out: dict[str, Any] = {}
    with clean_errors():
        if model is None and cv is None:
            raise UsageError("give --model (with --data) or --cv CONFIG")
        if model is not None:
            if data is None:
                raise UsageError("--model needs --data (a doccano JSONL with gold spans)")
            out |= _evaluate_model(model, data)
        if cv is not None:
            out["cv"] = _cross_validate(cv, data, set_ or [], as_json)
    if as_json:
        typer.echo(json.dumps(out))
        return
    if model is not None:
        console.print(scores_table(out["modes"], f"{model} on {data} ({out['n']} distinct texts)"))
    if cv is not None:
        console.print(cv_table(out["cv"]["rows"], f"{out['cv']['folds']}-fold cross-validation, {cv}"))
        console.print(f"best: {out['cv']['best']}")


def _evaluate_model(model: str, data: Path) -> dict[str, Any]:
    from nlpops.skills.doccano import read_doccano, resolve_duplicates
    from nlpops.skills.ner import evaluate_records, served_mode

    with _bad_file():
        records = resolve_duplicates(read_doccano(data))
    nlp = _load(model)
    scores = evaluate_records(nlp, records)
    main = served_mode(nlp)
    return {"mode": main, "n": len(records)} | scores[main] | {"modes": scores}


def _cross_validate(config: Path, data: Path | None, overrides: list[str], quiet: bool) -> dict[str, Any]:
    from nlpops.skills.config import load_skills_config
    from nlpops.skills.cv import cross_validate
    from nlpops.skills.dataset import load_split
    from nlpops.skills.run import read_lexicon

    cfg = load_skills_config(config, overrides + ([f"data.annotations={data}"] if data else []))
    if not cfg.cv.folds:
        raise ConfigError(f"{config}: cv.folds is 0 (set --set cv.folds=5)")
    with _bad_file():
        split = load_split(cfg)
        lexicon = read_lexicon(cfg)
    if quiet:
        result = cross_validate(cfg, split.train + split.test, lexicon, split.weak)
    else:
        with _progress() as (on_fold, _):
            result = cross_validate(cfg, split.train + split.test, lexicon, split.weak, on_fold)
    return {"folds": result.folds, "best": result.best(), "rows": result.summary()}


@app.command(
    "extract",
    cls=Command,
    epilog=examples(
        "nlpops skills extract $NLPOPS_DATA_DIR/ner_jobs_linkedin_postings_ma.csv.gz --out skills.csv"
    ),
)
def extract(
    file: FileArg,
    out: Annotated[Path, typer.Option(help="CSV to write: one row per posting.")],
    model: ModelOpt = "models:/skills@champion",
) -> None:
    """Per posting, the skills found and their normalised names (one column per category)."""
    from nlpops.skills.aggregate import extract_skills, read_postings, write_csv

    quiet_libraries()
    with clean_errors():
        with _bad_file():
            postings = read_postings(file)
        frame = extract_skills(_load(model), postings)
        write_csv(frame, out)
    console.print(f"{len(frame)} postings, {int(frame['n_skills'].sum())} skills → {out}")


@app.command(
    "report",
    cls=Command,
    epilog=examples("nlpops skills report skills.csv --out reports/skills --top 10"),
)
def report(
    file: Annotated[Path, typer.Argument(help="An extract CSV, or postings (then --model extracts first).")],
    out: Annotated[Path, typer.Option(help="Folder for the charts (PNG), demand.csv and index.html.")],
    model: ModelOpt = "models:/skills@champion",
    top: Annotated[int, typer.Option(min=1, help="Skills shown per category.")] = 15,
) -> None:
    """Most demanded skills per category: counts, share of postings, one bar chart each, an HTML page."""
    from nlpops.skills.aggregate import extract_skills, read_extracted, read_postings
    from nlpops.skills.report import write_report

    quiet_libraries()
    with clean_errors():
        if not file.is_file():
            raise FileNotFoundError(f"{file}: no such file")
        try:
            extracted = read_extracted(file)
        except (ValueError, UnicodeDecodeError):
            with _bad_file():
                postings = read_postings(file)
            extracted = extract_skills(_load(model), postings)
        page = write_report(extracted, out, top)
    console.print(f"report of {len(extracted)} postings → {page}")
