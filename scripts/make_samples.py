"""Draw the small committed samples in ``data/sample/`` from the real datasets (deterministic).

Usage: ``python scripts/make_samples.py [--seed 42] [--out data/sample]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from sklearn.model_selection import train_test_split

from nlpops.data import load_dataset

SENTIMENT140 = "sentiment140_train_subset_110k.csv.gz"
AIRLINE = "twitter_us_airline_sentiment_tweets.csv.gz"


def stratified_sample(df: pd.DataFrame, n_rows: int, seed: int) -> pd.DataFrame:
    """A label-stratified random sample of ``n_rows`` rows, in source order."""
    picked, _ = train_test_split(
        df.index.to_numpy(), train_size=n_rows, random_state=seed, stratify=df["label"]
    )
    return df.loc[sorted(picked)]


def main(
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("data/sample"),
    n_sentiment140: Annotated[int, typer.Option(help="Rows drawn from the 110k subset.")] = 20_000,
    n_airline: Annotated[int, typer.Option(help="Rows drawn from the airline file.")] = 3_000,
) -> None:
    """Write ``sentiment140_sample.csv`` (text,label) and ``airline_sample.csv.gz`` (+timestamp,group)."""
    out.mkdir(parents=True, exist_ok=True)
    tweets = stratified_sample(load_dataset(SENTIMENT140), n_sentiment140, seed)
    tweets[["text", "label"]].to_csv(out / "sentiment140_sample.csv", index=False)
    airline = stratified_sample(load_dataset(AIRLINE), n_airline, seed)
    airline[["text", "label", "timestamp", "group"]].to_csv(
        out / "airline_sample.csv.gz", index=False, compression={"method": "gzip", "mtime": 0}
    )
    for path in sorted(out.glob("*sample.csv*")):
        typer.echo(f"{path}: {path.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    typer.run(main)
