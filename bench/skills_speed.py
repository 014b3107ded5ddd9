"""Skills extraction throughput: postings per second of a saved pipeline, in its served mode and each other.

    PYTHONPATH=src python bench/skills_speed.py MODEL [--postings N]

MODEL: a pipeline folder or models:/skills@champion. The postings are the LinkedIn scrape's descriptions
(368 rows, duplicates kept, repeated to N), as ``/v1/skills/extract`` would receive them.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from nlpops.settings import get_settings
from nlpops.skills.model import entities_of, load_skills_model
from nlpops.skills.ner import annotate, available_modes, served_mode


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--postings", type=int, default=368)
    args = parser.parse_args()
    nlp = load_skills_model(args.model)
    rows = pd.read_csv(get_settings().data_dir / "ner_jobs_linkedin_postings_ma.csv.gz")["Description"]
    texts = [str(t) for t in rows.dropna()]
    texts = (texts * (args.postings // len(texts) + 1))[: args.postings]
    annotate(nlp, texts[:8])  # warm-up
    chars = sum(map(len, texts))
    print(
        f"{len(texts)} postings, {chars / len(texts):.0f} characters each on average; "
        f"served mode {served_mode(nlp)}"
    )
    started = time.perf_counter()
    entities_of(nlp, texts)
    elapsed = time.perf_counter() - started
    print(f"served (entities_of, as the API): {len(texts) / elapsed:.1f} postings/s")
    for mode in available_modes(nlp):
        started = time.perf_counter()
        annotate(nlp, texts, mode)
        print(f"  mode {mode}: {len(texts) / (time.perf_counter() - started):.1f} postings/s")


if __name__ == "__main__":
    main()
