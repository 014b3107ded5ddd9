"""``nlpops tune``: an Optuna study over a config's search space, tracked in MLflow."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from nlpops.cli.common import clean_errors, console, examples, quiet_libraries

EXAMPLES = examples(
    "nlpops tune configs/demo.yaml --model tfidf_lr --trials 30",
    "nlpops tune configs/demo.yaml --model tfidf_lr --trials 30 --refit",
    "nlpops tune configs/demo.yaml --model tfidf_lr --storage sqlite:///optuna.db --study-name shared",
)


def tune(
    config: Annotated[Path, typer.Argument(help="Run config (YAML) with a search: section.")],
    model: Annotated[str, typer.Option(help="Model name from the config's models: section.")],
    trials: Annotated[int | None, typer.Option(help="Trials this process runs.")] = 20,
    timeout: Annotated[float | None, typer.Option(help="Seconds this process spends at most.")] = None,
    storage: Annotated[
        str | None,
        typer.Option(
            help="Optuna storage URL shared by several processes (sqlite:///…, postgresql+psycopg://…)."
        ),
    ] = None,
    study_name: Annotated[str | None, typer.Option(help="Study name (default: <config>-<model>).")] = None,
    refit: Annotated[
        bool, typer.Option(help="Retrain the best on train+val, register it, apply the champion rule.")
    ] = False,
    seed: Annotated[int | None, typer.Option(help="Sampler seed (leave unset for shared studies).")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="KEY=VALUE", help="Override a config key (repeatable): split.seed=7."),
    ] = None,
) -> None:
    """Search hyperparameters on the validation split; each trial is a nested MLflow run."""
    from nlpops.config import load_config
    from nlpops.tune import run_tuning

    quiet_libraries()
    with clean_errors():
        cfg = load_config(config, set_ or [])
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console) as progress:
            task = progress.add_task(f"tuning {model}", total=trials)

            def on_trial(trial: Any) -> None:
                value = f"{trial.value:.4f}" if trial.value is not None else trial.state.name.lower()
                why = trial.user_attrs.get("error", "")
                progress.console.log(f"trial {trial.number}: {value} {trial.params} {why}".rstrip())
                progress.advance(task)

            result = run_tuning(cfg, model, trials, timeout, storage, study_name, refit, seed, on_trial)
    _print_result(result, cfg.metric)


def _print_result(result: Any, metric: str) -> None:
    trials = [t for t in result.study.trials if t.value is not None]
    table = Table(title=f"best trials of study {result.study.study_name} (val {metric})")
    for col in ("trial", f"val {metric}", "params"):
        table.add_column(col)
    for t in sorted(trials, key=lambda t: -t.value)[:5]:
        table.add_row(str(t.number), f"{t.value:.4f}", str(t.params))
    console.print(table)
    console.print(f"best val {metric}: {result.best_value:.4f} with {result.best_params}")
    console.print(f"MLflow parent run: {result.parent_run_id} ({result.n_trials} trials in the study)")
    if result.refit is not None:
        p = result.promotion
        score = result.refit.metrics.get(f"test_{metric}", float("nan"))
        console.print(
            f"refit on train+val: test {metric}={score:.4f} → registered {p.name} v{p.version}; "
            f"champion: {'moved' if p.promoted else 'kept'} ({p.reason})"
        )
