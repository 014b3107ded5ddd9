"""Transformers on the Sentiment140 110k subset: MiniLM fine-tuning, sentence_lr, ONNX int8 speed.

Usage: .venv/bin/python bench/bench_transformer.py [--train-samples 50000] [--max-epochs 1]
           [--sentence-samples 20000] [--skip-finetune] [--skip-sentence] [--out reports/bench_transformer]
Same data and split as ``nlpops train configs/sentiment140.yaml``; nothing is logged to MLflow.
Prints test accuracy, training samples/s, and the ONNX int8 export's batch throughput and
single-text latency against the torch model of the same run (ratios measured in this run).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def finetune(splits: Any, args: argparse.Namespace) -> tuple[Any, dict[str, float]]:
    """Fine-tune MiniLM on a stratified sample of the training split; score the test split."""
    from nlpops.evaluate import score_model
    from nlpops.models import build_model

    params = {
        "checkpoint": "minilm",
        "max_epochs": args.max_epochs,
        "max_train_samples": args.train_samples,
        "batch_size": 32,
        "learning_rate": args.learning_rate,
        "eval_every": args.eval_every,
        "max_length": args.max_length,
        "verbose": True,
    }
    model = build_model("transformer", params)
    started = time.perf_counter()
    model.fit(splits.train["text"].tolist(), splits.train["label"].tolist())
    train_s = time.perf_counter() - started
    scores = score_model(model, splits.test["text"].tolist(), splits.test["label"].tolist(), "positive")
    seen = model.history_[-1]["samples"] if model.history_ else 0
    return model, {
        "test_accuracy": scores["accuracy"],
        "test_roc_auc": scores.get("roc_auc", float("nan")),
        "train_s": train_s,
        "train_samples": model.n_train_samples_,
        "samples_per_s": seen / train_s,
        "max_length": model.max_length_,
        "evaluations": len(model.history_),
    }


def train_speed(splits: Any, n: int) -> tuple[Any, dict[str, float]]:
    """Fine-tune MiniLM on ``n`` training texts (one epoch, no validation): samples per second."""
    from nlpops.models import build_model

    params = {"checkpoint": "minilm", "max_epochs": 1, "max_train_samples": n, "validation_fraction": 0}
    model = build_model("transformer", params | {"batch_size": 32, "verbose": False})
    started = time.perf_counter()
    model.fit(splits.train["text"].tolist(), splits.train["label"].tolist())
    seconds = time.perf_counter() - started
    return model, {"train_samples": n, "train_s": seconds, "samples_per_s": n / seconds}


def sentence_lr(splits: Any, n: int) -> dict[str, float]:
    """sentence_lr (MiniLM embeddings + LR) on ``n`` training texts; score the test split."""
    from nlpops.evaluate import score_model
    from nlpops.models import build_model

    train = splits.train.sample(n=min(n, len(splits.train)), random_state=0)
    model = build_model("sentence_lr", {"checkpoint": "minilm", "C": 1.0, "batch_size": 128})
    started = time.perf_counter()
    model.fit(train["text"].tolist(), train["label"].tolist())
    train_s = time.perf_counter() - started
    scores = score_model(model, splits.test["text"].tolist(), splits.test["label"].tolist(), "positive")
    return {"test_accuracy": scores["accuracy"], "train_s": train_s, "train_samples": len(train)}


def onnx_speed(model: Any, texts: list[str], out: Path) -> dict[str, float]:
    """Export int8 ONNX, then time torch vs ONNX: batch throughput and single-text latency."""
    from nlpops.evaluate import measure_latency
    from nlpops.export import check_parity, export_folder
    from nlpops.models.base import load_model_dir

    folder = export_folder(model, out / f"onnx-{int(time.time())}", int8=True)
    exported = load_model_dir(folder)
    parity = check_parity(model, exported, texts[:5000])
    speed = {
        name: measure_latency(m, texts, n_single=300, batch_size=2000)
        for name, m in (("torch", model), ("onnx_int8", exported))
    }
    rows = {f"{name}_{k}": v for name, s in speed.items() for k, v in s.items()}
    return rows | {
        "parity_agreement": parity.agreement,
        "parity_max_proba_diff": parity.max_proba_diff,
        "onnx_size_mb": (folder / "model.onnx").stat().st_size / 2**20,
        "throughput_ratio": speed["onnx_int8"]["throughput_texts_per_s"]
        / speed["torch"]["throughput_texts_per_s"],
    }


def main() -> None:
    from nlpops.config import load_config
    from nlpops.models.base import load_model_dir
    from nlpops.train import prepare_data

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", default=str(ROOT / "configs" / "sentiment140.yaml"))
    parser.add_argument("--train-samples", type=int, default=50_000)
    parser.add_argument("--max-epochs", type=int, default=1)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--eval-every", type=int, default=None)
    parser.add_argument("--max-length", type=int, default=None)
    parser.add_argument("--sentence-samples", type=int, default=20_000)
    parser.add_argument("--skip-finetune", action="store_true")
    parser.add_argument("--skip-sentence", action="store_true")
    parser.add_argument("--model-dir", help="Reuse a fine-tuned model folder for the ONNX timing.")
    parser.add_argument("--speed-only", type=int, metavar="N", help="Time N training samples, then ONNX.")
    parser.add_argument("--out", default=str(ROOT / "reports" / "bench_transformer"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    splits = prepare_data(load_config(args.config))
    results: dict[str, Any] = {}
    model = load_model_dir(args.model_dir) if args.model_dir else None
    if args.speed_only:
        model, results["train_speed"] = train_speed(splits, args.speed_only)
        print(json.dumps(results["train_speed"]), flush=True)
    if not args.skip_finetune and model is None:
        model, results["finetune"] = finetune(splits, args)
        model.save(out / "minilm-finetuned")
        print(json.dumps(results["finetune"]), flush=True)
    if model is not None:
        results["onnx"] = onnx_speed(model, splits.test["text"].tolist(), out)
        print(json.dumps(results["onnx"]), flush=True)
    if not args.skip_sentence:
        results["sentence_lr"] = sentence_lr(splits, args.sentence_samples)
        print(json.dumps(results["sentence_lr"]), flush=True)
    (out / "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
