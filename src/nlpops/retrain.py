"""Feedback becomes training data: export the verdicts, train a challenger on them, promote if better.

A verdict says which label a served text should have had: the predicted one when it was right, the
one the user or reviewer gave when it was wrong, the other class of a binary model when it was
wrong without a label (otherwise it is left out: it does not say what is right). The texts come
from the service's store (``predictions.text``; nothing to export when the service keeps hashes only).

``retrain`` never trains on a test text: feedback whose normalised text is in the config's test or
validation split is dropped, and a fixed fifth of the rest (by prediction id) is held out to score
champion and challenger on the kind of texts users send, beside the config's test split.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from nlpops.config import RunConfig
from nlpops.data.normalize import normalize_text
from nlpops.errors import UsageError

COLUMNS = ["text", "label", "prediction_id", "predicted_label", "correct", "source", "model_name",
           "model_version", "created_at"]  # fmt: skip
HELD_OUT_SHARE = 0.2


def verdict_label(correct: bool, label: str | None, predicted: str, classes: list[str]) -> str | None:
    """The label a verdict gives its text, or None when it does not say.

    >>> verdict_label(False, None, "pos", ["neg", "pos"])
    'neg'
    >>> verdict_label(False, None, "pos", ["a", "b", "pos"]) is None
    True
    """
    if label:
        return label
    if correct:
        return predicted
    others = [c for c in classes if c != predicted]
    return others[0] if len(others) == 1 else None


def export_feedback(database_url: str) -> pd.DataFrame:
    """Every verdict that gives a label, with its text, as rows of ``COLUMNS`` (oldest first)."""
    from sqlalchemy import select

    from nlpops.serve.db import Feedback, Prediction, Store

    store = Store(database_url)
    try:
        problem = store.check()
        if problem:
            raise ConnectionError(f"{store.engine.url.render_as_string()}: {problem}")
        with store.session_factory() as session:
            rows = session.execute(
                select(Feedback, Prediction)
                .join(Prediction, Feedback.prediction_id == Prediction.id)
                .order_by(Feedback.created_at, Feedback.id)
            ).tuples()
            records = []
            for fb, pred in rows:
                label = verdict_label(fb.correct, fb.label, pred.label, list(pred.probabilities))
                if label is None or not pred.text:
                    continue
                records.append(
                    [
                        pred.text,
                        label,
                        pred.id,
                        pred.label,
                        fb.correct,
                        fb.source,
                        pred.model_name,
                        pred.model_version,
                        fb.created_at,
                    ]
                )
    finally:
        store.close()
    return pd.DataFrame(records, columns=COLUMNS)


def write_table(frame: pd.DataFrame, out: Path) -> Path:
    """``frame`` as CSV or Parquet, by ``out``'s extension."""
    suffix = out.suffix.lower()
    if suffix not in {".csv", ".parquet"}:
        raise UsageError(f"{out}: write .csv or .parquet (the extension picks the format)")
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = out.with_name(f".{out.name}.partial")  # never a half-written file under the real name
    if suffix == ".csv":
        frame.to_csv(stage, index=False)
    else:
        frame.to_parquet(stage, index=False)
    stage.replace(out)
    return out


def _held_out(prediction_id: str) -> bool:
    return int(hashlib.sha256(prediction_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < HELD_OUT_SHARE


@dataclass
class RetrainResult:
    """The scores of champion and challenger, and what the champion rule decided."""

    champion: dict[str, Any]
    challenger: dict[str, Any]
    promoted: bool
    feedback: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {
            "champion": self.champion,
            "challenger": self.challenger,
            "promoted": self.promoted,
            "feedback": self.feedback,
        }


def feedback_splits(cfg: RunConfig, feedback: pd.DataFrame) -> tuple[Any, pd.DataFrame, dict[str, int]]:
    """The config's splits with the usable feedback added to their training part, the held-out slice
    of the feedback, and counts of what was used and dropped."""
    from nlpops.train import prepare_data

    splits = prepare_data(cfg)
    known = set(splits.train["label"]) | set(splits.val["label"])
    protected = {normalize_text(t) for t in pd.concat([splits.val["text"], splits.test["text"]])}
    usable = feedback[feedback["label"].isin(known)]
    kept = usable[~usable["text"].map(normalize_text).isin(protected)]
    held = kept["prediction_id"].map(_held_out)
    train_part, held_out = kept[~held], kept[held]
    splits.train = pd.concat([splits.train, train_part[["text", "label"]]], ignore_index=True)
    counts = {
        "verdicts": len(feedback),
        "unknown_label": len(feedback) - len(usable),
        "in_test_or_validation": len(usable) - len(kept),
        "added_to_training": len(train_part),
        "held_out": len(held_out),
    }
    # logged with each challenger (split_manifest.json and its "data" tag): what it learned from
    splits.manifest = {**splits.manifest, "feedback": counts}
    return splits, held_out, counts


def retrain(cfg: RunConfig, database_url: str, models: list[str] | None = None) -> RetrainResult:
    """Train challengers on the config's training split plus the feedback, register the best, and
    let the champion rule promote it only if it beats the champion on the test split."""
    from nlpops.evaluate import score_model
    from nlpops.tracking import CHAMPION, load_estimator, setup_tracking
    from nlpops.train import run_training

    feedback = export_feedback(database_url)
    splits, held_out, counts = feedback_splits(cfg, feedback)
    setup_tracking(cfg.name)
    champion_uri = f"models:/{cfg.registered_model}@{CHAMPION}"
    try:
        champion = load_estimator(champion_uri)
    except Exception:  # no champion yet: the challenger is promoted by the rule
        champion = None

    def scores(model: Any) -> dict[str, Any]:
        test = score_model(
            model, splits.test["text"].tolist(), splits.test["label"].tolist(), cfg.positive_label
        )
        out: dict[str, Any] = {f"test_{cfg.metric}": test[cfg.metric]}
        if len(held_out):
            fb = score_model(model, held_out["text"].tolist(), held_out["label"].tolist(), cfg.positive_label)
            out[f"feedback_{cfg.metric}"] = fb.get(cfg.metric)
        return out

    champion_scores = scores(champion.model) if champion else {}
    report = run_training(cfg, models, splits=splits)
    challenger = load_estimator(report.best.model_uri)
    promotion = report.promotion
    return RetrainResult(
        champion={"uri": champion_uri, "version": champion.version if champion else None, **champion_scores},
        challenger={"uri": report.best.model_uri, "version": promotion.version, **scores(challenger.model)},
        promoted=bool(promotion.promoted),
        feedback=counts,
    )
