"""Which of nlpops' optional extras a fitted model needs where it is served.

MLflow records a model's pip requirement; ``nlpops`` alone installs neither torch nor the French
pipeline nor the packaged encoders, so a model that uses them would load on this machine and fail
on a fresh server. The extras are read off the estimators (each member of an ensemble too), never
off what happens to be installed here.

>>> from nlpops.models import build_model
>>> pip_requirement(build_model("tfidf_lr"))
'nlpops'
>>> pip_requirement(build_model("spacy_vectors", {"spacy_model": "fr_core_news_md"}))
'nlpops[fr]'
"""

from __future__ import annotations

from typing import Any

# Module prefix of an estimator's class -> the extra that installs what it imports.
MODULE_EXTRAS = {"nlpops.models.deep": "deep", "nlpops.models.hf": "transformers"}
# spaCy pipelines shipped by an extra (a model that loads one by name needs it installed).
SPACY_EXTRAS = {"fr_core_news_md": "fr"}


def required_extras(model: Any) -> list[str]:
    """The extras ``model`` needs, sorted; an ensemble needs its members' extras."""
    extras: set[str] = set()
    members = getattr(model, "members_", None)
    for member in members or ():
        extras.update(required_extras(member))
    module = type(model).__module__
    extras.update(extra for prefix, extra in MODULE_EXTRAS.items() if module.startswith(prefix))
    params: dict[str, Any] = model.get_params(deep=False) if hasattr(model, "get_params") else {}
    spacy_extra = SPACY_EXTRAS.get(str(params.get("spacy_model")))
    if spacy_extra:  # loaded by name when the model first predicts, never saved with it
        extras.add(spacy_extra)
    if params.get("vectors_path"):  # a gensim vectors file
        extras.add("deep")
    return sorted(extras)


def pip_requirement(model: Any, extras: list[str] | None = None) -> str:
    """``nlpops`` with the extras ``model`` needs (plus ``extras``), as pip reads it."""
    needed = sorted(set(required_extras(model)) | set(extras or ()))
    return f"nlpops[{','.join(needed)}]" if needed else "nlpops"
