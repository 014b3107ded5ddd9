"""``nlpops skills train``: config → split by distinct text → patterns → pipeline → NER → scores → MLflow."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlpops.skills.config import SkillsConfig
from nlpops.skills.dataset import SkillsSplit, load_split


@dataclass
class SkillsRun:
    """What one training run scored (per mode, held-out split), and where MLflow keeps it."""

    run_id: str
    model_uri: str
    scores: dict[str, dict]
    reviewed_scores: dict[str, dict]
    split: SkillsSplit
    promotion: Any = None
    train_time_s: float = 0.0


def best_mode(scores: dict[str, dict]) -> str:
    """The mode with the highest micro-F1 (ties: the combined pipeline first)."""
    order = {"both": 0, "ner": 1, "ruler": 2}
    return max(scores, key=lambda m: (scores[m]["micro_f1"], -order[m]))


def _log_scores(scores: dict[str, dict], prefix: str) -> dict[str, float]:
    import mlflow

    from nlpops.skills.score import flat_metrics

    metrics: dict[str, float] = {}
    for mode, values in scores.items():
        metrics |= flat_metrics(values, f"{prefix}_{mode}")
    mlflow.log_metrics(metrics)
    return metrics


def _params(cfg: SkillsConfig, split: SkillsSplit, n_patterns: int) -> dict[str, Any]:
    t = cfg.training
    tagger = {f"transformer_{k}": v for k, v in t.transformer.model_dump().items()}
    return (
        {
            "model": t.model,
            "base": t.base,
            "ruler": t.ruler,
            "iterations": t.iterations,
            "dropout": t.dropout,
            "batch_size": t.batch_size,
            "seed": t.seed,
            "split_seed": cfg.split.seed,
            "test_size": cfg.split.test_size,
            "weak_extra": cfg.data.weak_extra,
            "n_patterns": n_patterns,
        }
        | split.manifest()
        | (tagger if t.model == "transformer" else {})
    )


def served_mode(scores: dict[str, dict]) -> str:
    """The mode the registered model runs by default: the whole pipeline when it has both parts."""
    return "both" if "both" in scores else best_mode(scores)


def _score_and_log(nlp: Any, split: SkillsSplit, work: Path) -> tuple[dict[str, dict], dict[str, dict]]:
    """Score every mode on the held-out texts (all, and the hand-corrected ones) and log the scores."""
    import mlflow

    from nlpops.skills import ner

    scores = ner.evaluate_records(nlp, split.test)
    reviewed = [r for r in split.test if r.reviewed]
    reviewed_scores = ner.evaluate_records(nlp, reviewed) if reviewed else {}
    _log_scores(scores, "test")
    _log_scores(reviewed_scores, "test_reviewed")
    mlflow.log_metrics({"test_micro_f1": scores[served_mode(scores)]["micro_f1"]})
    (work / "scores.json").write_text(
        json.dumps({"test": scores, "test_reviewed": reviewed_scores}, indent=2)
    )
    mlflow.log_artifact(str(work / "scores.json"), artifact_path="evaluation")
    return scores, reviewed_scores


def train_skills(cfg: SkillsConfig, on_epoch: Callable[[int, float], None] | None = None) -> SkillsRun:
    """Train, score (ruler / NER / both on the held-out distinct texts), log, register and promote."""
    import mlflow

    from nlpops.skills import ner
    from nlpops.skills.model import log_pipeline
    from nlpops.skills.patterns import build_ruler_patterns
    from nlpops.tracking import setup_tracking

    split = load_split(cfg)
    aliases = cfg.data.path(cfg.data.aliases) if cfg.data.aliases else None
    patterns = build_ruler_patterns([cfg.data.path(p) for p in cfg.data.skill_lists], aliases)
    t = cfg.training
    tagger = t.tagger_params()
    nlp = ner.build_pipeline(t.base, patterns, t.ruler, t.context_window, tagger)
    setup_tracking(cfg.name)
    kind = "transformer_ner" if tagger else "spacy_ner"
    with (
        mlflow.start_run(run_name=f"skills[{t.model},{t.base},{t.ruler}]") as active,
        tempfile.TemporaryDirectory() as tmp,
    ):
        mlflow.set_tags({"kind": kind, "split_hash": split.test_hash, "task": "skills"})
        mlflow.log_params(_params(cfg, split, len(patterns)))
        started = time.perf_counter()
        history = ner.train_ner(
            nlp, split.train + split.weak, t.iterations, t.dropout, t.batch_size, t.seed, on_epoch
        )
        train_time = time.perf_counter() - started
        for epoch, loss in enumerate(history, 1):
            mlflow.log_metric("epoch_ner_loss", loss, step=epoch)
        mlflow.log_metrics({"train_time_s": train_time})
        scores, reviewed_scores = _score_and_log(nlp, split, Path(tmp))
        nlp.to_disk(Path(tmp) / "pipeline")
        uri = log_pipeline(nlp, Path(tmp) / "pipeline", [r.text for r in split.test[:2]])
    run = SkillsRun(active.info.run_id, uri, scores, reviewed_scores, split, train_time_s=train_time)
    run.promotion = promote(cfg, run)
    return run


def promote(cfg: SkillsConfig, run: SkillsRun) -> Any:
    """Register the run's model as ``cfg.registered_model``; ``@champion`` moves only on improvement."""
    from nlpops.skills import ner
    from nlpops.skills.model import load_skills_model
    from nlpops.tracking import register_and_promote

    def scorer(nlp: Any) -> float:
        scores = ner.evaluate_records(nlp, run.split.test)
        return float(scores[served_mode(scores)]["micro_f1"])

    mode = served_mode(run.scores)
    return register_and_promote(
        cfg.registered_model,
        run.model_uri,
        run.run_id,
        "micro_f1",
        float(run.scores[mode]["micro_f1"]),
        run.split.test_hash,
        scorer,
        loader=load_skills_model,
    )
