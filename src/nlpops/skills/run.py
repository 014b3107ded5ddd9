"""``nlpops skills train``: config → split by distinct text → lexicon → k-fold CV (chooses the served
combination) → names learned from the training split → pipeline → NER → scores → MLflow."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlpops.skills.config import SkillsConfig
from nlpops.skills.cv import CVResult
from nlpops.skills.dataset import SkillsSplit, load_split
from nlpops.skills.lexicon import Lexicon
from nlpops.skills.patterns import Skill


@dataclass
class SkillsRun:
    """What one training run scored (per mode, held-out split), and where MLflow keeps it."""

    run_id: str
    model_uri: str
    scores: dict[str, dict]
    reviewed_scores: dict[str, dict]
    split: SkillsSplit
    mode: str = "both"
    cv: CVResult | None = None
    promotion: Any = None
    train_time_s: float = 0.0
    lexicon: str = ""  # where the served ruler's names come from (as saved in the pipeline's meta)


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
            "max_epochs": t.max_epochs,
            "dropout": t.dropout,
            "batch_size": t.batch_size,
            "random_state": t.random_state,
            "split_seed": cfg.split.seed,
            "test_size": cfg.split.test_size,
            "weak_extra": cfg.data.weak_extra,
            "n_patterns": n_patterns,
        }
        | split.manifest()
        | (tagger if t.model == "transformer" else {})
    )


def _score_and_log(nlp: Any, split: SkillsSplit, work: Path) -> tuple[dict[str, dict], dict[str, dict]]:
    """Score every mode on the held-out texts (all, and the hand-corrected ones) and log the scores."""
    import mlflow

    from nlpops.skills import ner

    scores = ner.evaluate_records(nlp, split.test)
    reviewed = [r for r in split.test if r.reviewed]
    reviewed_scores = ner.evaluate_records(nlp, reviewed) if reviewed else {}
    _log_scores(scores, "test")
    _log_scores(reviewed_scores, "test_reviewed")
    mlflow.log_metrics({"test_micro_f1": scores[ner.served_mode(nlp)]["micro_f1"]})
    (work / "scores.json").write_text(
        json.dumps({"test": scores, "test_reviewed": reviewed_scores}, indent=2)
    )
    mlflow.log_artifact(str(work / "scores.json"), artifact_path="evaluation")
    return scores, reviewed_scores


def read_lexicon(cfg: SkillsConfig) -> Lexicon:
    """The data files' names: the configured skill lists and aliases (None: the shipped ones)."""
    aliases = cfg.data.path(cfg.data.aliases) if cfg.data.aliases else None
    return Lexicon.from_files([cfg.data.path(p) for p in cfg.data.skill_lists], aliases)


def choose(cfg: SkillsConfig, cv: CVResult | None) -> tuple[str, str | None, bool]:
    """The NER kind to train, the mode to serve and whether the ruler learns the training texts' gold
    names: the best cross-validated row, else the config's."""
    from nlpops.skills.cv import learns_lexicon, split_row

    if cv is None:
        return cfg.training.model, None, cfg.training.learn_lexicon
    best = cv.best()
    kind, mode = split_row(best)
    return kind or cfg.training.model, mode, learns_lexicon(best)


def _log_lexicon(learned: list[Skill], path: Path) -> None:
    """Log learned names as an ``alias<TAB>canonical<TAB>label`` artifact (``lexicon/``)."""
    import mlflow

    path.write_text("".join(f"{s.text}\t{s.canonical}\t{s.label}\n" for s in learned), encoding="utf-8")
    mlflow.log_artifact(str(path), artifact_path="lexicon")


def _refit_lexicon(cfg: SkillsConfig, nlp: Any, lexicon: Lexicon, split: SkillsSplit, work: Path) -> None:
    """After the held-out scores: the served ruler relearns its names from every gold text. The logged
    scores stay those of the training split's names; the champion gate uses them, or the champion's."""
    import mlflow

    from nlpops.skills import ner
    from nlpops.skills.lexicon import GoldLexicon

    gold = split.train + split.test
    served = GoldLexicon(cfg.training.lexicon_min_precision).fit(gold).skills_
    ner.set_patterns(nlp, lexicon.patterns(served))
    nlp.meta["nlpops"]["lexicon"] = (
        f"data files + {len(served)} names learned from all {len(gold)} gold texts "
        "(the held-out scores were measured with the training split's names)"
    )
    mlflow.log_params({"n_learned_served": len(served)})
    _log_lexicon(served, work / "served_lexicon.tsv")


def train_skills(
    cfg: SkillsConfig,
    epoch_callback: Callable[[int, float], None] | None = None,
    on_fold: Callable[[str, int, int], None] | None = None,
) -> SkillsRun:
    """Cross-validate on every distinct text, train the chosen combination on the training split, score
    every mode on the held-out texts, log, register and promote."""
    import mlflow

    from nlpops.skills import ner
    from nlpops.skills.cv import cross_validate
    from nlpops.skills.lexicon import GoldLexicon
    from nlpops.skills.model import log_pipeline
    from nlpops.tracking import setup_tracking

    split = load_split(cfg)
    lexicon = read_lexicon(cfg)
    cv = None
    if cfg.cv.folds:
        cv = cross_validate(cfg, split.train + split.test, lexicon, split.weak, on_fold)
    kind, mode, learn = choose(cfg, cv)
    learned = GoldLexicon(cfg.training.lexicon_min_precision).fit(split.train).skills_ if learn else []
    patterns = lexicon.patterns(learned)
    t = cfg.training.model_copy(update={"model": kind})
    tagger = t.tagger_params()
    nlp = ner.build_pipeline(t.base, patterns, t.ruler, t.context_window, tagger)
    nlp.meta["nlpops"] = {"lexicon": f"data files + {len(learned)} names learned from the training split"}
    if mode:
        nlp.meta["nlpops"] |= {"mode": mode, "chosen_by": f"{cfg.cv.folds}-fold cross-validation"}
    setup_tracking(cfg.name)
    with (
        mlflow.start_run(run_name=f"skills[{kind},{t.base},{mode or t.ruler}]") as active,
        tempfile.TemporaryDirectory() as tmp,
    ):
        mlflow.set_tags({"kind": f"{kind}_ner", "split_hash": split.test_hash, "task": "skills"})
        served = {"model": kind, "served_mode": str(mode), "learn_lexicon": learn, "n_learned": len(learned)}
        mlflow.log_params(_params(cfg, split, len(patterns)) | served)
        _log_lexicon(learned, Path(tmp) / "learned_lexicon.tsv")
        if cv is not None:
            mlflow.log_metrics(cv.metrics())
            (Path(tmp) / "cv.json").write_text(json.dumps(cv.summary(), indent=1))
            mlflow.log_artifact(str(Path(tmp) / "cv.json"), artifact_path="evaluation")
        started = time.perf_counter()
        history = ner.train_ner(
            nlp,
            split.train + split.weak,
            t.max_epochs,
            t.dropout,
            t.batch_size,
            t.random_state,
            epoch_callback,
        )
        train_time = time.perf_counter() - started
        for epoch, loss in enumerate(history, 1):
            mlflow.log_metric("epoch_ner_loss", loss, step=epoch)
        mlflow.log_metrics({"train_time_s": train_time})
        scores, reviewed_scores = _score_and_log(nlp, split, Path(tmp))
        if learn and t.lexicon_refit and "entity_ruler" in nlp.pipe_names:
            _refit_lexicon(cfg, nlp, lexicon, split, Path(tmp))
        nlp.to_disk(Path(tmp) / "pipeline")
        uri = log_pipeline(nlp, Path(tmp) / "pipeline", [r.text for r in split.test[:2]])
    run = SkillsRun(
        active.info.run_id,
        uri,
        scores,
        reviewed_scores,
        split,
        ner.served_mode(nlp),
        cv,
        train_time_s=train_time,
        lexicon=nlp.meta["nlpops"]["lexicon"],
    )
    run.promotion = promote(cfg, run)
    return run


def promote(cfg: SkillsConfig, run: SkillsRun) -> Any:
    """Register the run's model as ``cfg.registered_model``; ``@champion`` moves only on improvement."""
    from nlpops.skills import ner
    from nlpops.skills.model import load_skills_model
    from nlpops.tracking import register_and_promote

    def scorer(nlp: Any) -> float:
        scores = ner.evaluate_records(nlp, run.split.test)
        return float(scores[ner.served_mode(nlp)]["micro_f1"])

    return register_and_promote(
        cfg.registered_model,
        run.model_uri,
        run.run_id,
        "micro_f1",
        float(run.scores[run.mode]["micro_f1"]),
        run.split.test_hash,
        scorer,
        loader=load_skills_model,
    )
