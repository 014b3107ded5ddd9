"""The target label: the class a watch, a spike, the dashboard and a drift alert are about.

Bad buzz watches "negative", the French use case "dissident". It is one concept with one rule:
the label a caller names, else the one saved with the model at training (``target_label`` in the run
config, stored as the model's ``target_label_``), else the class whose name says so. Before, the
watch and the dashboard each kept a list of names, and the live spike monitor silently found no
target for the French model.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from nlpops.errors import ParameterError, UsageError

# Lower-cased names a use case gives the class it watches (Sentiment140, airline tweets, Grand Débat).
TARGET_NAMES: tuple[str, ...] = (
    "negative", "neg", "négatif", "negatif", "négative", "insatisfait", "dissatisfied", "dissident",
)  # fmt: skip


def guess_target(classes: Iterable[object]) -> str | None:
    """The class named like a target ("negative", "dissident"…), or None.

    >>> guess_target(["neutral", "Negative", "positive"]), guess_target(["dissident", "non dissident"])
    ('Negative', 'dissident')
    """
    by_name = {str(c).lower(): str(c) for c in classes}
    exact = next((by_name[name] for name in TARGET_NAMES if name in by_name), None)
    return exact or next((label for name, label in by_name.items() if name.startswith("negative")), None)


def target_label(model: Any, given: str | None = None) -> str | None:
    """The model's target label: ``given`` (must be a class), else the saved one, else by name."""
    classes = [str(c) for c in getattr(model, "classes_", [])]
    if given is not None:
        if given not in classes:
            raise ParameterError(f"target label {given!r} is not a class of the model: {classes}")
        return given
    saved = getattr(model, "target_label_", None)
    if saved is not None and saved in classes:
        return str(saved)
    return guess_target(classes)


def require_target_label(model: Any, given: str | None = None) -> str:
    """:func:`target_label`, or a ``ValueError`` that says how to name one."""
    label = target_label(model, given)
    if label is None:
        classes = [str(c) for c in getattr(model, "classes_", [])]
        raise UsageError(
            f"no class of {classes} reads as the one to watch; name it with --negative-label "
            "(or target_label in the run config)"
        )
    return label
