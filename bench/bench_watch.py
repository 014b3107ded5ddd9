"""Bad-buzz watch at scale: the airline tweets repeated (times shifted) to 1M posts, scored and aggregated.

Usage: .venv/bin/python bench/bench_watch.py [--rows 1000000] [--params fast|champion] [--no-spark]
``fast`` is tfidf_lr with word n-grams only; ``champion`` is tfidf_lr's defaults (word 1–2 + char 2–5-grams,
``minimal`` recipe); ``config`` is configs/sentiment140.yaml's tuned tfidf_lr (``tweet`` recipe, word 1–3 +
char 2–6-grams) without ``nb_scale``.
Writes everything (input Parquet, MLflow store, reports) under a throw-away folder in /tmp.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

PARAMS = {
    "fast": {"char_ngram_range": None},
    "champion": {"C": 2.0},
    # configs/sentiment140.yaml's tuned tfidf_lr, less nb_scale (two classes only; the airline has three)
    "config": {
        "recipe": "tweet",
        "C": 0.66,
        "word_ngram_max": 3,
        "char_ngram_range": (2, 6),
        "max_features": None,
    },
}
AIRLINE = "twitter_us_airline_sentiment_tweets.csv.gz"


def make_input(rows: int, path: Path) -> None:
    """Repeat the tweets, each copy shifted by the span of the data, and write them as Parquet."""
    from nlpops.data import data_dir

    raw = pd.read_csv(data_dir() / AIRLINE, usecols=["text", "tweet_created", "airline"])
    stamps = pd.to_datetime(raw["tweet_created"], format="%Y-%m-%d %H:%M:%S %z", utc=True)
    span = stamps.max() - stamps.min() + pd.Timedelta(hours=1)
    copies = -(-rows // len(raw))
    frames = [raw.assign(tweet_created=(stamps + i * span).astype(str)) for i in range(copies)]
    pd.concat(frames, ignore_index=True).head(rows).to_parquet(path)


def train_and_log(params: dict, folder: Path) -> str:
    """Fit tfidf_lr on the airline tweets, log it to the temp MLflow store; returns its model URI."""
    import mlflow

    from nlpops.data import load_dataset
    from nlpops.models import build_model
    from nlpops.tracking import log_model, setup_tracking

    df = load_dataset(AIRLINE)
    model = build_model("tfidf_lr", params).fit(df["text"].tolist(), df["label"].tolist())
    setup_tracking("bench-watch")
    with mlflow.start_run():
        return log_model(model, model.save(folder), df["text"].tolist()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--params", choices=sorted(PARAMS), default="fast")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="local scoring processes")
    parser.add_argument("--no-spark", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="nlpops-bench-watch-"))
    os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{tmp / 'mlruns.db'}")
    os.environ.setdefault("NLPOPS_ARTIFACT_ROOT", str(tmp / "artifacts"))
    os.environ.setdefault("NLPOPS_MODEL_CACHE_DIR", str(tmp / "cache"))

    from nlpops.watch import WatchSpec, run_watch

    posts = tmp / "posts.parquet"
    make_input(args.rows, posts)
    uri = train_and_log(PARAMS[args.params], tmp / "model")
    spec = WatchSpec("tweet_created", "text", by="airline")
    print(f"{args.rows:,} posts, tfidf_lr [{args.params}], cpus={os.cpu_count()}, jobs={args.jobs}")

    started = time.perf_counter()
    local = run_watch(posts, uri, spec, tmp / "local", jobs=args.jobs)
    local_s = time.perf_counter() - started
    print(f"local: {local_s:.1f} s, {args.rows / local_s:,.0f} posts/s, {len(local.spikes)} spikes")
    if args.no_spark:
        return
    from nlpops.watch.spark import run_watch_spark, spark_session

    spark_session().sparkContext.setLogLevel("ERROR")  # session start-up is counted below
    started = time.perf_counter()
    spark = run_watch_spark(posts, uri, spec, tmp / "spark")
    spark_s = time.perf_counter() - started
    print(f"spark local[*]: {spark_s:.1f} s, {args.rows / spark_s:,.0f} posts/s, {len(spark.spikes)} spikes")
    print(f"spark / local time: {spark_s / local_s:.2f}")


if __name__ == "__main__":
    main()
