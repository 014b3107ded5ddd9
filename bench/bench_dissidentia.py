"""dissidentIA benchmark: ROC AUC and F1(dissident) of each model on the config's held-out split.

Also trains the semi-supervised option, fastText vectors on the 143,719 unlabelled Grand Débat
answers (plus the labelled sentences' texts, never their labels), and reports repeated 5-fold
cross-validation on train+val, whose spread says how much one 175-row test split can be trusted.
``--contextual`` adds the MiniLM models (``sentence_lr``, its C chosen by cross-validation on
train+val; a fine-tuned ``transformer``, held-out split only: too slow to cross-validate on CPU)
and the ``soft_vote`` ensembles that add them to the three members above.

    NLPOPS_DATA_DIR=/work/shared/data python bench/bench_dissidentia.py [--cv] [--contextual] [--vectors PATH]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nlpops.config import load_config
from nlpops.data import load_dataset
from nlpops.models import build_model
from nlpops.train import prepare_data

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "dissidentia.yaml"
UNLABELLED = "grand_debat_organisation_answers_sample.csv.gz"
POSITIVE = "dissident"
SENTENCE_CS = (0.1, 0.3, 1.0, 3.0, 10.0)
TRANSFORMER = {
    "checkpoint": "minilm",
    "class_weight": "balanced",
    "max_epochs": 2,
    "learning_rate": 1e-4,
    "batch_size": 16,
    "max_length": 64,
    "freeze_embeddings": True,
    "freeze_layers": 4,
    "validation_fraction": 0.0,
    "n_jobs": 2,
    "verbose": False,
}


def candidates(vectors: Path | None) -> dict[str, tuple[str, dict[str, Any]]]:
    """The models compared: name -> (kind, params)."""
    tfidf = {"class_weight": "balanced", "min_df": 1, "lang": "fr"}
    out = {
        "tfidf_lr[fr_lemma]": ("tfidf_lr", {**tfidf, "recipe": "fr_lemma"}),
        "tfidf_lr[minimal]": ("tfidf_lr", {**tfidf, "recipe": "minimal"}),
        "tfidf_lr[fr_stem]": ("tfidf_lr", {**tfidf, "recipe": "fr_stem"}),
        "spacy_vectors[fr_core_news_md]": ("spacy_vectors", {"weighting": "mean", "keep_stopwords": True}),
        "spacy_vectors[idf]": ("spacy_vectors", {"weighting": "idf", "keep_stopwords": True}),
    }
    members = [
        {"kind": kind, **params}
        for kind, params in [*list(out.values())[:2], out["spacy_vectors[fr_core_news_md]"]]
    ]
    out["soft_vote[lemma+minimal+md]"] = ("soft_vote", {"members": members})
    if vectors is not None:
        domain = ("spacy_vectors", {"vectors_path": str(vectors), "C": 0.1})
        out["spacy_vectors[domain fastText]"] = domain
        out["soft_vote[lemma+minimal+md+domain]"] = (
            "soft_vote",
            {"members": [*members, {"kind": domain[0], **domain[1]}]},
        )
    return out


def contextual(members: list[dict[str, Any]], c: float) -> dict[str, tuple[str, dict[str, Any]]]:
    """MiniLM models alone and as a fourth ``soft_vote`` member (``c``: the C of ``sentence_lr``)."""
    sentence = ("sentence_lr", {"checkpoint": "minilm", "class_weight": "balanced", "C": c, "n_jobs": 2})
    return {
        f"sentence_lr[minilm, C={c:g}]": sentence,
        "transformer[minilm, fine-tuned]": ("transformer", TRANSFORMER),
        "soft_vote[lemma+minimal+md+minilm sentence_lr]": (
            "soft_vote",
            {"members": [*members, {"kind": sentence[0], **sentence[1]}]},
        ),
        "soft_vote[lemma+minimal+md+minilm transformer]": (
            "soft_vote",
            {"members": [*members, {"kind": "transformer", **TRANSFORMER}]},
        ),
    }


def choose_sentence_c(repeats: int = 2) -> float:
    """The C of ``sentence_lr`` with the best repeated 5-fold ROC AUC on train+val (test untouched).

    The encoder is frozen, so the texts are embedded once and only the logistic regression is refitted.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import RepeatedStratifiedKFold, cross_val_score

    splits = prepare_data(load_config(CONFIG))
    dev = pd.concat([splits.train, splits.val]).reset_index(drop=True)
    encoder = build_model("sentence_lr", {"checkpoint": "minilm", "n_jobs": 2})
    encoder.fit(dev["text"].tolist()[:20], dev["label"].tolist()[:20])  # loads the encoder
    X, y = encoder.embed(dev["text"].tolist()), (dev["label"] == POSITIVE).to_numpy()
    folds = RepeatedStratifiedKFold(n_splits=5, n_repeats=repeats, random_state=0)
    scores = {}
    for c in SENTENCE_CS:
        head = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
        scores[c] = float(cross_val_score(head, X, y, cv=folds, scoring="roc_auc").mean())
        print(f"sentence_lr C={c:g}: CV ROC AUC {scores[c]:.3f}", flush=True)
    return max(scores, key=lambda c: scores[c])


def train_domain_vectors(out: Path, texts: list[str], dim: int = 100, epochs: int = 5) -> Path:
    """fastText (gensim, skip-gram) on lower-cased spaCy French tokens, saved in fastText's .bin format."""
    import spacy
    from gensim.models import FastText
    from gensim.models.fasttext import save_facebook_model

    nlp = spacy.blank("fr")  # the tokenizer of fr_core_news_md, without loading it
    sentences = [[t.lower_ for t in doc if any(c.isalpha() for c in t.text)] for doc in nlp.pipe(texts)]
    started = time.perf_counter()
    model = FastText(
        sentences=sentences,
        vector_size=dim,
        window=5,
        sg=1,
        epochs=epochs,
        min_count=3,
        bucket=100_000,
        workers=2,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    save_facebook_model(model, str(out))
    took = time.perf_counter() - started
    print(f"domain fastText: {len(sentences)} texts, {len(model.wv)} words, {took:.0f} s")
    return out


def held_out(models: dict[str, tuple[str, dict[str, Any]]]) -> pd.DataFrame:
    """Fit on train, tune the threshold on val, score on test (the config's stratified split)."""
    splits = prepare_data(load_config(CONFIG))
    rows = []
    for name, (kind, params) in models.items():
        started = time.perf_counter()
        model = build_model(kind, params).fit(splits.train["text"].tolist(), splits.train["label"].tolist())
        fit_s = time.perf_counter() - started
        val = model.evaluate(splits.val["text"].tolist(), splits.val["label"].tolist(), POSITIVE)
        threshold = model.tune_threshold(splits.val["text"].tolist(), splits.val["label"].tolist(), POSITIVE)
        test = model.evaluate(splits.test["text"].tolist(), splits.test["label"].tolist(), POSITIVE)
        model.set_threshold(None)
        argmax = model.evaluate(splits.test["text"].tolist(), splits.test["label"].tolist(), POSITIVE)
        rows.append(
            {
                "model": name,
                "val_roc_auc": val["roc_auc"],
                "roc_auc": test["roc_auc"],
                "pr_auc": test["pr_auc"],
                "f1_dissident": test["positive_f1"],
                "f1_dissident_argmax": argmax["positive_f1"],
                "threshold": threshold,
                "fit_s": fit_s,
            }
        )
        print(rows[-1], flush=True)
    return pd.DataFrame(rows).set_index("model")


def cross_validated(models: dict[str, tuple[str, dict[str, Any]]], repeats: int = 2) -> pd.DataFrame:
    """ROC AUC over repeated stratified 5-fold CV on train+val (test rows untouched)."""
    from sklearn.model_selection import RepeatedStratifiedKFold

    splits = prepare_data(load_config(CONFIG))
    dev = pd.concat([splits.train, splits.val]).reset_index(drop=True)
    X, y = dev["text"].to_numpy(), dev["label"].to_numpy()
    folds = list(RepeatedStratifiedKFold(n_splits=5, n_repeats=repeats, random_state=0).split(X, y))
    rows = []
    for name, (kind, params) in models.items():
        if "transformer" in name:  # minutes per fit on CPU: held-out split only
            continue
        aucs = []
        for train, test in folds:
            model = build_model(kind, params).fit(list(X[train]), list(y[train]))
            aucs.append(model.evaluate(list(X[test]), list(y[test]), POSITIVE)["roc_auc"])
        rows.append({"model": name, "cv_roc_auc": np.mean(aucs), "cv_std": np.std(aucs)})
        print(rows[-1], flush=True)
    return pd.DataFrame(rows).set_index("model")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vectors", type=Path, default=Path(".nlpops-cache/dissidentia_fasttext.bin"))
    parser.add_argument("--cv", action="store_true", help="also run 5-fold x 2 cross-validation")
    parser.add_argument("--contextual", action="store_true", help="add the MiniLM models (slow on CPU)")
    parser.add_argument("--no-domain", action="store_true", help="skip the domain fastText vectors")
    parser.add_argument("--only", default="", help="keep the models whose name contains this text")
    args = parser.parse_args()
    if args.no_domain:
        args.vectors = None
    elif not args.vectors.exists():
        unlabelled = load_dataset(UNLABELLED, fmt="csv", columns={"text": "answer_text", "label": None})
        labelled = load_dataset("dissidentia_labels_v4.csv.gz")
        train_domain_vectors(args.vectors, unlabelled["text"].tolist() + labelled["text"].tolist())
    models = candidates(args.vectors)
    if args.contextual:
        members = models["soft_vote[lemma+minimal+md]"][1]["members"]
        models |= contextual(members, choose_sentence_c())
    models = {name: spec for name, spec in models.items() if args.only in name}
    table = held_out(models)
    if args.cv:
        table = table.join(cross_validated(models))
    print(table.round(3).to_markdown())


if __name__ == "__main__":
    main()
