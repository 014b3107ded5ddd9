"""Which words pushed the model towards its label: LIME for one text, leaving words out for sentences."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from nlpops.models.base import META_FILE, TextClassifier, load_model_dir, predicted_labels
from nlpops.tracking import LoadedModel

_WORD = re.compile(r"\w+", re.UNICODE)


def explain_text(
    model: TextClassifier, text: str, num_samples: int, num_features: int = 10
) -> tuple[str, dict[str, float], list[tuple[str, float]]]:
    """Explain the predicted label of ``text`` with LIME.

    The cost is ``num_samples`` perturbed texts through ``predict_proba`` in one batch, so it
    stays well under 2 s for a linear model at the default 300 samples.

    Args:
        model: any nlpops text classifier.
        text: the text to explain.
        num_samples: LIME's perturbation count (``explain_samples`` setting).
        num_features: how many words to weigh at most.

    Returns:
        The predicted label, the probability of each class, and (word, weight) pairs by |weight|.
    """
    from lime.lime_text import LimeTextExplainer

    classes = [str(c) for c in model.classes_]
    proba = model.predict_proba([text])[0]
    idx = classes.index(str(predicted_labels(model, proba[None, :])[0]))  # a tuned threshold applies
    probabilities = {c: float(p) for c, p in zip(classes, proba, strict=True)}
    if not _WORD.search(text):  # nothing LIME could remove
        return classes[idx], probabilities, []
    explainer = LimeTextExplainer(class_names=classes, random_state=0)
    explanation = explainer.explain_instance(
        text, model.predict_proba, labels=(idx,), num_features=num_features, num_samples=num_samples
    )
    weights = [(str(w), float(v)) for w, v in explanation.as_list(label=idx)]
    return classes[idx], probabilities, weights


# In an explanation worker process: the model it explains with, by (folder, version key); one at a time.
_WORKER_MODEL: dict[tuple[str, str], TextClassifier] = {}


def worker_ref(loaded: LoadedModel | None, processes: bool) -> tuple[str, str] | None:
    """Where a worker process finds the served model: its folder, and a key that changes whenever
    the model does (a new version, or the folder saved again and reloaded); None when explanations
    run in threads (``processes`` false) or the model is held only in memory."""
    if not processes or loaded is None or loaded.folder is None:
        return None
    meta = Path(loaded.folder) / META_FILE
    if not meta.is_file():
        return None
    return str(loaded.folder), f"{loaded.uri}|{loaded.version}|{loaded.run_id}|{meta.stat().st_mtime_ns}"


def load_saved(folder: str, key: str) -> TextClassifier:
    """The model saved in ``folder``, loaded once per ``(folder, key)`` in this (worker) process.

    A hot reload changes ``key`` (the served version), so the next call loads the new model and
    drops the old one.
    """
    model = _WORKER_MODEL.get((folder, key))
    if model is None:
        _WORKER_MODEL.clear()
        model = _WORKER_MODEL[(folder, key)] = load_model_dir(Path(folder))
    return model


def warm_saved(folder: str, key: str) -> None:
    """Load the model a worker process will explain with, before the first explanation needs it."""
    load_saved(folder, key)


def explain_saved(
    folder: str, key: str, text: str, num_samples: int
) -> tuple[str, dict[str, float], list[tuple[str, float]]]:
    """:func:`explain_text` with the model saved in ``folder``, for a worker process."""
    return explain_text(load_saved(folder, key), text, num_samples)


def occlusion_explain(
    model: TextClassifier, texts: list[str], max_words: int = 40, top: int = 10
) -> list[tuple[str, dict[str, float], list[tuple[str, float]]]]:
    """Label, probabilities and word weights of each text, by leaving each word out in turn.

    A word's weight is P(label | text) - P(label | text without that word): positive words push
    towards the label. Unlike LIME it is deterministic, works for any model, and costs one
    ``predict_proba`` batch of (1 + words) rows per text, so it suits short texts such as sentences.

    Args:
        model: any nlpops text classifier.
        texts: the (short) texts to explain.
        max_words: distinct words weighed per text at most (the first ones).
        top: word weights returned per text, by |weight|.

    Returns:
        One (label, probabilities, [(word, weight), …]) per text.
    """
    variants: list[str] = []
    plan: list[tuple[int, list[str]]] = []
    for text in texts:
        words = list(dict.fromkeys(_WORD.findall(text)))[:max_words]
        plan.append((len(variants), words))
        variants.append(text)
        variants += [re.sub(rf"(?<!\w){re.escape(w)}(?!\w)", " ", text) for w in words]
    proba = np.asarray(model.predict_proba(variants), dtype=float)
    classes = [str(c) for c in model.classes_]
    labels = predicted_labels(model, proba[[start for start, _ in plan]])
    out = []
    for (start, words), label in zip(plan, labels, strict=True):
        col = classes.index(str(label))
        drops = proba[start, col] - proba[start + 1 : start + 1 + len(words), col]
        pairs = zip(words, drops.tolist(), strict=True)
        weighed = [(w, v) for w, v in pairs if abs(v) > 1e-9]  # words the model never saw weigh nothing
        weights = sorted(weighed, key=lambda wv: -abs(wv[1]))[:top]
        out.append((str(label), dict(zip(classes, proba[start].tolist(), strict=True)), weights))
    return out
