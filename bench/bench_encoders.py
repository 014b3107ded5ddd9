"""Sentence encoders on the three text tasks: cost per text, and what a linear head learns on them.

One run, one machine: each encoder (``minilm``, ``e5-small-multilingual``, ``use-multilingual``, and
``mpnet`` when its parts are installed) embeds the texts once; embeddings are kept under
``.nlpops-cache/embeddings`` (keyed by encoder and a hash of the texts) so a rerun only refits heads.

* ``speed``: ms per text on 2 threads, one text at a time and in batches, English tweets and French sentences.
* ``dissidentia``: repeated stratified 5-fold CV ROC AUC on the labelled file (the config's ``drop_labels``
  applied): each encoder + ``LogisticRegression(class_weight="balanced")``, the TF-IDF and spaCy-vector
  members, and the rank averages of them (the config's champion candidates).
* ``selftrain``: self-training on dissidentIA: each encoder's head, refitted inside each CV fold with the most
  confident pseudo-labels of ``--unlabelled`` sentences split from the unlabelled Grand Débat answers.
* ``sentiment140``: each encoder + LR trained on ``--train-samples`` tweets of the config's training split,
  scored on its test split (accuracy, ROC AUC) and zero-shot on the airline tweets (negative vs positive, ROC
  AUC); with the tuned ``tfidf_lr`` and their stack (LR on validation-split probabilities).

    NLPOPS_DATA_DIR=/work/shared/data python bench/bench_encoders.py speed dissidentia sentiment140
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from nlpops.config import load_config
from nlpops.data import load_dataset
from nlpops.models import build_model
from nlpops.models.encoders import load_encoder
from nlpops.text.sentences import split_many
from nlpops.train import prepare_data

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".nlpops-cache" / "embeddings"
ENCODERS = ("minilm", "e5-small-multilingual", "use-multilingual")
AIRLINE = "twitter_us_airline_sentiment_tweets.csv.gz"
UNLABELLED = "grand_debat_organisation_answers_sample.csv.gz"
HEAD_C = {"e5-small-multilingual": 10.0, "use-multilingual": 1.0, "minilm": 1.0}  # the configs' C


def embed(name: str, texts: list[str], threads: int = 2) -> np.ndarray:
    """``texts`` through encoder ``name``, from the disk cache when this exact list was embedded before."""
    digest = hashlib.sha1("\n".join(texts).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    path = CACHE / f"{name}-{digest}.npy"
    if path.exists():
        return np.load(path)
    encoder = load_encoder(name, n_jobs=threads, batch_size=256)
    started, done = time.perf_counter(), [0]

    def report(n: int) -> None:
        done[0] += n
        if done[0] % 5120 < n or done[0] == len(texts):
            took = time.perf_counter() - started
            print(
                f"  {name}: {done[0]:,}/{len(texts):,} texts, {1000 * took / done[0]:.1f} ms/text", flush=True
            )

    vectors = encoder.encode(texts, on_batch=report)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def speed(encoders: tuple[str, ...]) -> None:
    """ms per text, single and batched, on tweets and French sentences (2 threads)."""
    tweets = load_dataset(AIRLINE, fmt="airline")["text"].tolist()[:512]
    french = load_dataset("dissidentia_labels_v4.csv.gz", fmt="dissidentia")["text"].tolist()[:512]
    print(
        "| encoder | tweets: 1 text (ms) | tweets: batch (ms/text) "
        "| French: 1 text (ms) | French: batch (ms/text) |"
    )
    print("|---|---|---|---|---|")
    for name in encoders:
        encoder = load_encoder(name, n_jobs=2, batch_size=64, cached=False)
        encoder.encode(tweets[:8])  # warm-up
        cells = []
        for texts in (tweets, french):
            started = time.perf_counter()
            for text in texts[:64]:
                encoder.encode([text])
            single = 1000 * (time.perf_counter() - started) / 64
            started = time.perf_counter()
            encoder.encode(texts)
            batch = 1000 * (time.perf_counter() - started) / len(texts)
            cells += [f"{single:.1f}", f"{batch:.1f}"]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


def _proba(model_kind: str, params: dict, train: pd.DataFrame, texts: list[str], positive: str) -> np.ndarray:
    model = build_model(model_kind, params).fit(train["text"].tolist(), train["label"].tolist())
    return model.predict_proba(texts)[:, list(model.classes_).index(positive)]


def dissidentia(encoders: tuple[str, ...], repeats: int, vectors: Path | None) -> None:
    """Repeated stratified 5-fold ROC AUC of each view and of weighted means of views (``soft_vote``)."""
    cfg = load_config(ROOT / "configs" / "dissidentia.yaml")
    splits = prepare_data(cfg)
    frame = pd.concat([splits.train, splits.val, splits.test]).reset_index(drop=True)
    texts, y = frame["text"].tolist(), (frame["label"] == "dissident").to_numpy()
    embeddings = {name: embed(name, texts) for name in encoders}
    members = {
        "tfidf_lr [fr_lemma]": (
            "tfidf_lr",
            {"recipe": "fr_lemma", "lang": "fr", "class_weight": "balanced", "min_df": 1},
        ),
        "tfidf_lr [minimal]": (
            "tfidf_lr",
            {"recipe": "minimal", "lang": "fr", "class_weight": "balanced", "min_df": 1},
        ),
        "spacy_vectors": ("spacy_vectors", {"spacy_model": "fr_core_news_md", "keep_stopwords": True}),
    }
    if vectors is not None:  # semi-supervised: fastText trained on the 143k unlabelled answers
        members["spacy_vectors (domain fastText)"] = (
            "spacy_vectors",
            {"vectors_path": str(vectors), "keep_stopwords": True},
        )
    e5, use = "e5-small-multilingual", "use-multilingual"
    votes: dict[str, dict[str, float]] = {
        "soft_vote (2 tfidf_lr + spacy_vectors)": dict.fromkeys(list(members)[:3], 1.0),
        "soft_vote + MiniLM (former champion)": {**dict.fromkeys(list(members)[:3], 1.0), "minilm": 1.0},
        "e5 + USE": {e5: 1.0, use: 1.0},
        "vote_e5_use: tfidf_lr [fr_lemma] + spacy_vectors + 2 e5 + USE": {
            "tfidf_lr [fr_lemma]": 1.0,
            "spacy_vectors": 1.0,
            e5: 2.0,
            use: 1.0,
        },
        "same, domain fastText vectors": {
            "tfidf_lr [fr_lemma]": 1.0,
            "spacy_vectors (domain fastText)": 1.0,
            e5: 2.0,
            use: 1.0,
        },
    }
    scores: dict[str, list[float]] = {}
    for seed in range(repeats):
        for train_idx, test_idx in StratifiedKFold(5, shuffle=True, random_state=seed).split(texts, y):
            probas = {}
            for name, X in embeddings.items():
                head = LogisticRegression(C=HEAD_C.get(name, 1.0), class_weight="balanced", max_iter=5000)
                probas[name] = head.fit(X[train_idx], y[train_idx]).predict_proba(X[test_idx])[:, 1]
            test_texts = [texts[i] for i in test_idx]
            for name, (kind, params) in members.items():
                probas[name] = _proba(kind, params, frame.iloc[train_idx], test_texts, "dissident")
            for name, weights in votes.items():
                if all(v in probas for v in weights):
                    total = sum(weights.values())
                    probas[name] = sum(w * probas[v] for v, w in weights.items()) / total
            for name, p in probas.items():
                scores.setdefault(name, []).append(roc_auc_score(y[test_idx], p))
        print(f"  repeat {seed + 1}/{repeats} done", flush=True)
    print(f"\n| view (dissidentia, {repeats}x5-fold CV, {len(texts)} sentences) | ROC AUC mean | sd |")
    print("|---|---|---|")
    for name, values in sorted(scores.items(), key=lambda kv: -np.mean(kv[1])):
        print(f"| {name} | {np.mean(values):.3f} | {np.std(values):.3f} |")


def selftrain(encoders: tuple[str, ...], repeats: int, n_unlabelled: int) -> None:
    """Repeated 5-fold ROC AUC of each encoder's head, alone and self-trained on pseudo-labelled sentences."""
    cfg = load_config(ROOT / "configs" / "dissidentia.yaml")
    splits = prepare_data(cfg)
    frame = pd.concat([splits.train, splits.val, splits.test]).reset_index(drop=True)
    texts, y = frame["text"].tolist(), (frame["label"] == "dissident").to_numpy()
    answers = load_dataset(UNLABELLED, fmt="csv", columns={"text": "answer_text", "label": None})["text"]
    labelled, sentences = set(texts), []
    shuffled = answers.sample(frac=1.0, random_state=0).tolist()
    for start in range(0, len(shuffled), 1000):  # the service's splitter (fr_core_news_md's senter)
        for split in split_many(shuffled[start : start + 1000]):
            sentences += [s for s in split if 20 <= len(s) <= 300]
        if len(sentences) >= n_unlabelled:
            break
    sentences = [s for s in dict.fromkeys(sentences) if s not in labelled][:n_unlabelled]
    scores: dict[str, list[float]] = {}
    for name in encoders:
        X, U, c = embed(name, texts), embed(name, sentences), HEAD_C.get(name, 1.0)
        for seed in range(repeats):
            for train_idx, test_idx in StratifiedKFold(5, shuffle=True, random_state=seed).split(texts, y):
                head = LogisticRegression(C=c, class_weight="balanced", max_iter=5000).fit(
                    X[train_idx], y[train_idx]
                )
                scores.setdefault(name, []).append(
                    roc_auc_score(y[test_idx], head.predict_proba(X[test_idx])[:, 1])
                )
                order = np.argsort(head.predict_proba(U)[:, 1])
                for share, weight in ((0.2, 0.3), (0.4, 0.3), (0.4, 1.0)):
                    k = int(share * len(U) / 2)  # 3/4 of them negative, as the labelled sentences mostly are
                    picked = np.r_[order[: int(k * 1.5)], order[-(k // 2) :]]
                    pseudo = np.r_[np.zeros(int(k * 1.5)), np.ones(k // 2)]
                    refit = LogisticRegression(C=c, class_weight="balanced", max_iter=5000).fit(
                        np.vstack([X[train_idx], U[picked]]),
                        np.r_[y[train_idx], pseudo],
                        sample_weight=np.r_[np.ones(len(train_idx)), np.full(len(picked), weight)],
                    )
                    row = (
                        f"{name}, self-trained: {share:.0%} of the sentences pseudo-labelled, weight {weight}"
                    )
                    scores.setdefault(row, []).append(
                        roc_auc_score(y[test_idx], refit.predict_proba(X[test_idx])[:, 1])
                    )
    print(f"\n| head ({repeats}x5-fold CV; {len(sentences):,} unlabelled sentences) | ROC AUC mean | sd |")
    print("|---|---|---|")
    for name, values in scores.items():
        print(f"| {name} | {np.mean(values):.3f} | {np.std(values):.3f} |")


def sentiment140(encoders: tuple[str, ...], train_samples: int, val_samples: int) -> None:
    """Encoder + LR on a training sample: Sentiment140 test accuracy and airline zero-shot ROC AUC."""
    cfg = load_config(ROOT / "configs" / "sentiment140.yaml")
    splits = prepare_data(cfg)
    train = splits.train.sample(n=min(train_samples, len(splits.train)), random_state=0)
    val = splits.val.sample(n=min(val_samples, len(splits.val)), random_state=0)  # the stack's training rows
    airline = load_dataset(AIRLINE, fmt="airline")
    airline = airline[airline["label"].isin(["negative", "positive"])]
    parts = {"train": train, "val": val, "test": splits.test, "airline": airline}
    ys = {k: (v["label"] == "positive").to_numpy() for k, v in parts.items()}
    probas: dict[str, dict[str, np.ndarray]] = {}
    for name in encoders:
        X = {k: embed(name, v["text"].tolist()) for k, v in parts.items()}
        head = LogisticRegression(C=1.0, max_iter=5000).fit(X["train"], ys["train"])
        probas[name] = {k: head.predict_proba(X[k])[:, 1] for k in ("val", "test", "airline")}
    tfidf_params = dict(cfg.models["tfidf_lr"].params)
    tfidf = build_model("tfidf_lr", tfidf_params).fit(
        splits.train["text"].tolist(), splits.train["label"].tolist()
    )
    column = list(tfidf.classes_).index("positive")
    probas["tfidf_lr (whole train split)"] = {
        k: tfidf.predict_proba(parts[k]["text"].tolist())[:, column] for k in ("val", "test", "airline")
    }
    names = list(probas)
    stack = LogisticRegression(C=1.0).fit(_logits(probas, names, "val"), ys["val"])
    probas["stack (LR on val probabilities)"] = {
        k: stack.predict_proba(_logits(probas, names, k))[:, 1] for k in ("test", "airline")
    }
    print(
        f"\n| model (encoders: LR on {len(train):,} training tweets) | Sentiment140 test accuracy "
        "| test ROC AUC | airline neg/pos zero-shot ROC AUC |"
    )
    print("|---|---|---|---|")
    for name, p in probas.items():
        acc = accuracy_score(ys["test"], p["test"] >= 0.5)
        print(
            f"| {name} | {acc:.4f} | {roc_auc_score(ys['test'], p['test']):.4f} |"
            f" {roc_auc_score(ys['airline'], p['airline']):.4f} |",
            flush=True,
        )


def _logits(probas: dict[str, dict[str, np.ndarray]], names: list[str], part: str) -> np.ndarray:
    p = np.clip(np.column_stack([probas[n][part] for n in names]), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tasks", nargs="+", choices=("speed", "dissidentia", "selftrain", "sentiment140"))
    parser.add_argument("--encoders", nargs="+", default=list(ENCODERS))
    parser.add_argument("--repeats", type=int, default=3, help="repeats of the 5-fold CV (dissidentia)")
    parser.add_argument("--train-samples", type=int, default=20_000, help="tweets the heads learn from")
    parser.add_argument("--val-samples", type=int, default=4_000, help="validation tweets for the stack")
    parser.add_argument("--unlabelled", type=int, default=6_000, help="unlabelled sentences (selftrain)")
    parser.add_argument(
        "--vectors",
        type=Path,
        default=None,
        help="domain fastText .bin (bench/bench_dissidentia.py writes one)",
    )
    args = parser.parse_args()
    runs: dict[str, Callable[[], None]] = {
        "speed": lambda: speed(tuple(args.encoders)),
        "dissidentia": lambda: dissidentia(tuple(args.encoders), args.repeats, args.vectors),
        "selftrain": lambda: selftrain(tuple(args.encoders), args.repeats, args.unlabelled),
        "sentiment140": lambda: sentiment140(tuple(args.encoders), args.train_samples, args.val_samples),
    }
    for task in args.tasks:
        print(f"\n## {task}", flush=True)
        runs[task]()


if __name__ == "__main__":
    main()
