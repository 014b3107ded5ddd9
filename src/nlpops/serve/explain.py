"""LIME explanations of one prediction: which words pushed the model towards its label."""

from __future__ import annotations

import re

from nlpops.models.base import TextClassifier, predicted_labels

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
