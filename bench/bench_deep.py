"""Deep models on the Sentiment140 110k subset: quality, training time and inference speed in one run.

Usage: .venv/bin/python bench/bench_deep.py [--config configs/sentiment140_deep.yaml] [--models a,b]
Same data and split as ``nlpops train`` (``nlpops.train.prepare_data``); nothing is logged to MLflow.
Ratios are to the fastest model of the run (training time) and to the highest throughput.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def bench_one(model: Any, splits: Any, positive_label: str | None) -> dict[str, float]:
    """Fit on the training split, then score the test split and time inference."""
    from nlpops.evaluate import measure_latency, score_model

    started = time.perf_counter()
    model.fit(splits.train["text"].tolist(), splits.train["label"].tolist())
    train_s = time.perf_counter() - started
    texts = splits.test["text"].tolist()
    scores = score_model(model, texts, splits.test["label"].tolist(), positive_label)
    speed = measure_latency(model, texts)
    history = getattr(model, "history_", [])
    return {
        "accuracy": scores["accuracy"],
        "macro_f1": scores["macro_f1"],
        "train_s": train_s,
        "epochs": len(history),
        "best_epoch": min(history, key=lambda r: r["val_loss"])["epoch"] if history else 0,
        "texts_per_s": speed["throughput_texts_per_s"],
        "p50_ms": speed["latency_p50_ms"],
    }


def print_table(rows: list[tuple[str, dict[str, float]]]) -> None:
    """One line per model, with ratios to the fastest training and the best throughput."""
    fastest = min(m["train_s"] for _, m in rows)
    best_speed = max(m["texts_per_s"] for _, m in rows)
    print(
        f"{'model':<18}{'acc':>7}{'macroF1':>9}{'train s':>9}{'x fastest':>10}{'epochs':>8}"
        f"{'texts/s':>9}{'x best':>8}{'p50 ms':>8}"
    )
    for name, m in rows:
        print(
            f"{name:<18}{m['accuracy']:>7.4f}{m['macro_f1']:>9.4f}{m['train_s']:>9.1f}"
            f"{m['train_s'] / fastest:>10.2f}{m['epochs']:>5.0f} ({m['best_epoch']:.0f})"
            f"{m['texts_per_s']:>9.0f}{m['texts_per_s'] / best_speed:>8.2f}{m['p50_ms']:>8.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default=str(ROOT / "configs" / "sentiment140_deep.yaml"))
    parser.add_argument("--models", default=None, help="comma-separated subset of the config's models")
    args = parser.parse_args()

    import torch

    from nlpops.config import load_config
    from nlpops.train import build_planned, plan_runs, prepare_data

    cfg = load_config(args.config)
    splits = prepare_data(cfg)
    print(f"{len(splits.train)} train / {len(splits.val)} val / {len(splits.test)} test")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, cuda: {torch.cuda.is_available()}")
    rows = []
    for run in plan_runs(cfg, args.models.split(",") if args.models else None):
        model = build_planned(run, cfg.preprocessing.lang)
        rows.append((run.name, bench_one(model, splits, cfg.positive_label)))
        print(f"done {run.name}: {rows[-1][1]}", flush=True)
    print()
    print_table(rows)


if __name__ == "__main__":
    main()
