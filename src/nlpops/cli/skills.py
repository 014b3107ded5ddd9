"""``nlpops skills …``: skills extraction from job postings (ruler, doccano import, NER, scores, report)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from nlpops.cli.common import clean_errors, console, quiet_libraries

app = typer.Typer(help="Skills extraction from job postings (spaCy ruler + NER).", no_args_is_help=True)

ModelOpt = Annotated[
    str,
    typer.Option(
        "--model", help="A spaCy pipeline folder, an MLflow model folder, models:/skills@champion, runs:/…"
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
        raise ValueError(f"{model}: {exc.message}") from exc


@app.command("build-ruler")
def build_ruler(
    lists: Annotated[
        list[Path], typer.Argument(help="Skill-list CSVs (name column); the label comes from the file name.")
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
        patterns = build_ruler_patterns(lists, aliases, lang)
        if pipeline:
            from nlpops.skills.ner import ruler_pipeline

            ruler_pipeline(patterns, lang).to_disk(out)
        else:
            write_patterns(patterns, out)
    console.print(f"{len(patterns)} patterns → {out}")


@app.command("import-doccano")
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
        records = read_doccano(file)
        if not keep_duplicates:
            records = resolve_duplicates(records, read_doccano(preannotated) if preannotated else None)
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


@app.command("train")
def train(
    config: Annotated[Path, typer.Argument(help="Skills config (YAML), e.g. configs/skills.yaml.")],
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override a config key: a.b=value.")] = None,
) -> None:
    """Train the NER, score ruler / NER / both on held-out distinct texts, log to MLflow, register."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from nlpops.skills.config import load_skills_config
    from nlpops.skills.run import train_skills

    quiet_libraries()
    with clean_errors():
        cfg = load_skills_config(config, set_ or [])
        with Progress(
            TextColumn("NER epoch {task.completed}/{task.total}"),
            BarColumn(),
            TextColumn("loss {task.fields[loss]:.3g}"),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            task = bar.add_task("train", total=cfg.training.epochs, loss=0.0)
            run = train_skills(cfg, lambda epoch, loss: bar.update(task, completed=epoch, loss=loss))
    console.print(scores_table(run.scores, f"held-out distinct texts ({len(run.split.test)})"))
    if run.reviewed_scores:
        n = sum(r.reviewed for r in run.split.test)
        console.print(scores_table(run.reviewed_scores, f"held-out hand-corrected texts ({n})"))
    p = run.promotion
    console.print(
        f"registered {p.name} v{p.version}; champion: {'moved' if p.promoted else 'kept'} ({p.reason})"
    )


def scores_table(scores: dict[str, dict], title: str) -> Table:
    """Per-label and micro F1 (P/R) of each mode as a rich table."""
    from nlpops.skills.schema import LABELS

    table = Table(title=title)
    for col in ("mode", *LABELS, "micro P", "micro R", "micro F1"):
        table.add_column(col)
    for mode, s in scores.items():
        labels = [f"{s['per_label'][label]['f1']:.3f}" for label in LABELS]
        table.add_row(
            mode, *labels, f"{s['micro_precision']:.3f}", f"{s['micro_recall']:.3f}", f"{s['micro_f1']:.3f}"
        )
    return table


@app.command("evaluate")
def evaluate(
    model: ModelOpt,
    data: Annotated[Path, typer.Option(help="doccano JSONL with gold spans.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")] = False,
) -> None:
    """Span precision / recall / F1 per label and micro, for the ruler alone, the NER alone and both."""
    from nlpops.skills.doccano import read_doccano, resolve_duplicates
    from nlpops.skills.ner import evaluate_records
    from nlpops.skills.run import served_mode

    quiet_libraries()
    with clean_errors():
        records = resolve_duplicates(read_doccano(data))
        scores = evaluate_records(_load(model), records)
    main = served_mode(scores)
    if as_json:
        out = {"mode": main, "n": len(records)} | scores[main] | {"modes": scores}
        typer.echo(json.dumps(out))
        return
    console.print(scores_table(scores, f"{model} on {data} ({len(records)} distinct texts)"))


@app.command("extract")
def extract(
    file: FileArg,
    out: Annotated[Path, typer.Option(help="CSV to write: one row per posting.")],
    model: ModelOpt = "models:/skills@champion",
) -> None:
    """Per posting, the skills found and their normalised names (one column per category)."""
    from nlpops.skills.aggregate import extract_skills, read_postings, write_csv

    quiet_libraries()
    with clean_errors():
        postings = read_postings(file)
        frame = extract_skills(_load(model), postings)
        write_csv(frame, out)
    console.print(f"{len(frame)} postings, {int(frame['n_skills'].sum())} skills → {out}")


@app.command("report")
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
            extracted = extract_skills(_load(model), read_postings(file))
        page = write_report(extracted, out, top)
    console.print(f"report of {len(extracted)} postings → {page}")
