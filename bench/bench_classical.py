"""Classical sweep on the Sentiment140 110k subset: quality, time and fastText ratios in one run.

Usage: .venv/bin/python bench/bench_classical.py [--recipes minimal,stem,lemma]
Writes to a throw-away MLflow store under /tmp unless MLFLOW_TRACKING_URI is set.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default=str(ROOT / "configs" / "sentiment140.yaml"))
    parser.add_argument("--models", default=None, help="comma-separated subset of the config's models")
    parser.add_argument("--recipes", default=None, help="comma-separated recipes to compare")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="nlpops-bench-"))
    os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{tmp / 'mlruns.db'}")
    os.environ.setdefault("NLPOPS_ARTIFACT_ROOT", str(tmp / "artifacts"))

    from nlpops.config import load_config
    from nlpops.train import run_training

    cfg = load_config(args.config)
    started = time.perf_counter()
    report = run_training(
        cfg,
        args.models.split(",") if args.models else None,
        args.recipes.split(",") if args.recipes else None,
        notify=print,
    )
    total = time.perf_counter() - started
    print(
        f"\n{len(report.splits.train)} train / {len(report.splits.val)} val / {len(report.splits.test)} test"
    )
    print(
        f"{'model':<12}{'recipe':<9}{'acc':>7}{'macroF1':>9}{'AUC':>7}{'train s':>9}{'vs fT':>7}"
        f"{'p50 ms':>8}{'texts/s':>10}{'MB':>7}"
    )
    for r in report.results:
        m = r.metrics
        print(
            f"{r.name:<12}{r.recipe or '-':<9}{m['test_accuracy']:>7.4f}{m['test_macro_f1']:>9.4f}"
            f"{m.get('test_roc_auc', float('nan')):>7.4f}{m['train_time_s']:>9.1f}"
            f"{m.get('train_time_vs_fasttext', float('nan')):>7.2f}{m.get('test_latency_p50_ms', 0):>8.2f}"
            f"{m.get('test_throughput_texts_per_s', 0):>10.0f}{m['size_mb']:>7.1f}"
        )
    print(f"\nwhole sweep (load + split + {len(report.results)} runs + logging): {total:.1f} s")
    print(f"best: {report.best.name} [{report.best.recipe}] — {report.promotion.reason}")


if __name__ == "__main__":
    main()
