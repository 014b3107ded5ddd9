"""The language a model reads, as its own settings name it (never guessed from its outputs).

The web page shows it beside the text box and warns when a text looks like another language: an
English model answers "positive" to French text without a word of doubt.

>>> from nlpops.models import build_model
>>> declared_languages(build_model("tfidf_lr", {"recipe": "fr_lemma", "lang": "fr"}))
['fr']
>>> declared_languages(build_model("tfidf_lr", {"recipe": "none", "lang": "fr"}))  # raw text: lang unused
[]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from nlpops.models.hf.checkpoints import MINILM_ALIASES

# Hub checkpoints whose name says their language; any other checkpoint says nothing.
CHECKPOINT_LANGUAGES = {"camembert": "fr", "flaubert": "fr", "bertweet": "en"}


def declared_languages(model: Any) -> list[str]:
    """The language codes ``model``'s settings name, the most named first; empty when none does.

    Read from each estimator, and from each member of an ensemble: VADER is English; a spaCy pipeline's
    name starts with its language (``fr_core_news_md``); a transformer's checkpoint, when its name says
    (MiniLM is English, CamemBERT French); otherwise the ``lang`` of its preprocessing recipe, unless the
    recipe is ``none`` (raw text, so ``lang`` changes nothing).
    """
    return [code for code, _ in Counter(_evidence(model)).most_common()]


def _evidence(model: Any) -> Iterator[str]:
    members = getattr(model, "members_", None)
    if members:
        for member in members:
            yield from _evidence(member)
        return
    from nlpops.models.vader import VaderClassifier

    if isinstance(model, VaderClassifier):
        yield "en"  # its lexicon and rules are English, whatever its recipe's lang
        return
    params: dict[str, Any] = model.get_params(deep=False) if hasattr(model, "get_params") else {}
    spacy_model = params.get("spacy_model")
    if isinstance(spacy_model, str) and spacy_model[2:3] == "_" and spacy_model[:2] != "xx":
        yield spacy_model[:2].lower()  # xx_* pipelines are multilingual
        return
    checkpoint = params.get("checkpoint")
    if isinstance(checkpoint, str):
        code = _checkpoint_language(checkpoint)
        if code:
            yield code
        return  # the encoder reads the text; the recipe's lang only cleans it
    lang, recipe = params.get("lang"), params.get("recipe")
    if isinstance(lang, str) and lang and recipe != "none":
        yield lang.lower()


def _checkpoint_language(checkpoint: str) -> str | None:
    name = checkpoint.strip().lower()
    if name in MINILM_ALIASES:
        return "en"
    return next((code for key, code in CHECKPOINT_LANGUAGES.items() if key in name), None)
