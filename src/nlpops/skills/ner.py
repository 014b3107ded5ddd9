"""The skills spaCy pipeline: build it (base + ruler + context rule + NER), train the NER, predict.

Heavy: imports spaCy. Imported lazily by the CLI and the training run.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal, cast

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import fix_random_seed, minibatch

import nlpops.skills.components  # noqa: F401  (registers the skills_context and skills_transformer factories)
from nlpops.skills.doccano import to_docs
from nlpops.skills.patterns import default_ambiguous, default_cue_words
from nlpops.skills.schema import Record, SpanSet
from nlpops.skills.tokens import split_glued_words

Mode = Literal["ruler", "ner", "both", "ner_first"]
# The pipes each mode runs, in order. "both": the ruler first, the NER fills the gaps; "ner_first": the
# NER first, the ruler fills the gaps. The context rule ends every mode that has the ruler.
STEPS: dict[Mode, tuple[str, ...]] = {
    "ruler": ("entity_ruler", "skills_context"),
    "ner": ("ner",),
    "both": ("entity_ruler", "ner", "skills_context"),
    "ner_first": ("ner", "entity_ruler", "skills_context"),
}
EpochCallback = Callable[[int, float], None]


def blank_base(base: str) -> Language:
    """The base pipeline: blank English/French, or ``fr_core_news_md``'s vocab and vectors only."""
    if base in ("blank_en", "blank_fr"):
        return split_glued_words(spacy.blank(base.removeprefix("blank_")))
    if base == "fr_core_news_md":
        nlp = spacy.load("fr_core_news_md")
        for name in list(nlp.pipe_names):  # keep the tokenizer and vectors; the NER is trained here
            nlp.remove_pipe(name)
        return split_glued_words(nlp)
    raise ValueError(f"unknown pipeline base {base!r} (blank_en, blank_fr, fr_core_news_md)")


def add_rules(nlp: Language, patterns: list[dict[str, Any]], after_ner: bool, window: int = 8) -> None:
    """Add the EntityRuler and, last, the context rule; after the NER, the ruler only fills gaps.

    The context rule runs after the NER too, so a NER that learnt "Lean" from the seed
    project's noisy labels cannot bring it back without context.
    """
    after = "ner" if after_ner else None
    before = "ner" if not after_ner and "ner" in nlp.pipe_names else None
    config = {"overwrite_ents": False, "phrase_matcher_attr": "LOWER"}  # phrase patterns: any case
    ruler = nlp.add_pipe("entity_ruler", config=config, before=before, after=after)
    ruler.add_patterns(patterns)  # type: ignore[attr-defined]
    cfg = {"ambiguous": sorted(default_ambiguous()), "cue_words": default_cue_words(), "window": window}
    nlp.add_pipe("skills_context", config=cfg, last=True)  # also filters the NER's entities


def set_patterns(nlp: Language, patterns: list[dict[str, Any]]) -> None:
    """Replace the EntityRuler's patterns (the NER and the context rule are untouched)."""
    ruler: Any = nlp.get_pipe("entity_ruler")
    ruler.clear()
    ruler.add_patterns(patterns)


def ner_config(use_vectors: bool) -> dict[str, Any]:
    """The NER's config: spaCy's default, or a tok2vec that also reads the base's static vectors."""
    if not use_vectors:
        return {}
    embed = {
        "@architectures": "spacy.MultiHashEmbed.v2",
        "width": 96,
        "attrs": ["NORM", "PREFIX", "SUFFIX", "SHAPE"],
        "rows": [5000, 1000, 2500, 2500],
        "include_static_vectors": True,
    }
    encode = {
        "@architectures": "spacy.MaxoutWindowEncoder.v2",
        "width": 96,
        "depth": 4,
        "window_size": 1,
        "maxout_pieces": 3,
    }
    return {"model": {"tok2vec": {"@architectures": "spacy.Tok2Vec.v2", "embed": embed, "encode": encode}}}


def build_pipeline(
    base: str,
    patterns: list[dict[str, Any]],
    ruler: str,
    window: int = 8,
    transformer: dict[str, Any] | None = None,
) -> Language:
    """Base + NER + (ruler and context rule before or after it, or none).

    Args:
        transformer: the parameters of a :class:`~nlpops.skills.tagger.SkillsTagger` to use as the
            NER (a ``skills_transformer`` pipe named ``ner``) instead of spaCy's.
    """
    nlp = blank_base(base)
    if transformer is not None:
        nlp.add_pipe("skills_transformer", name="ner", config={"params": transformer})
    else:
        nlp.add_pipe("ner", config=ner_config(use_vectors=base == "fr_core_news_md"))
    if ruler != "none":
        add_rules(nlp, patterns, after_ner=ruler == "after", window=window)
    return nlp


def ruler_pipeline(patterns: list[dict[str, Any]], lang: str = "fr", window: int = 8) -> Language:
    """A ruler-only pipeline (no NER): the ``build-ruler`` output as something that runs."""
    nlp = split_glued_words(spacy.blank(lang))
    add_rules(nlp, patterns, after_ner=False, window=window)
    return nlp


def examples_for(nlp: Language, records: list[Record]) -> list[Example]:
    """Training examples: the pipeline's tokenization with the records' aligned spans."""
    docs, _ = to_docs(nlp, records)
    return [Example(nlp.make_doc(d.text), d) for d in docs]


def train_ner(
    nlp: Language,
    records: list[Record],
    max_epochs: int,
    dropout: float = 0.2,
    batch_size: int = 4,
    random_state: int = 0,
    epoch_callback: EpochCallback | None = None,
) -> list[float]:
    """Train the pipeline's NER on ``records`` (the rules are off during training).

    A ``skills_transformer`` NER fine-tunes with its own parameters (max_epochs, batch_size,
    random_state); the arguments here drive spaCy's NER.

    Returns:
        The NER loss of each epoch.
    """
    fit = getattr(nlp.get_pipe("ner"), "fit", None)
    if fit is not None:
        return list(fit(records, epoch_callback))
    fix_random_seed(random_state)
    rng = random.Random(random_state)
    examples = examples_for(nlp, records)
    if not examples:
        raise ValueError("no training examples")
    history = []
    with nlp.select_pipes(enable=["ner"]):
        optimizer = nlp.initialize(lambda: examples)
        for epoch in range(max_epochs):
            rng.shuffle(examples)
            losses: dict[str, float] = {}
            for batch in minibatch(examples, size=batch_size):
                nlp.update(batch, drop=dropout, sgd=optimizer, losses=losses)
            history.append(float(losses.get("ner", 0.0)))
            if epoch_callback:
                epoch_callback(epoch + 1, history[-1])
    return history


def available_modes(nlp: Language) -> list[Mode]:
    """The modes this pipeline can run."""
    return [m for m, steps in STEPS.items() if all(name in nlp.pipe_names for name in steps)]


def served_mode(nlp: Language) -> Mode:
    """The mode a saved pipeline runs by default: the one cross-validation chose (``meta``), else
    the ruler first and the NER after it when the pipeline has both."""
    modes = available_modes(nlp)
    chosen = nlp.meta.get("nlpops", {}).get("mode")
    if chosen in modes:
        return cast(Mode, chosen)
    return "both" if "both" in modes else modes[0]


def annotate(nlp: Language, texts: list[str], mode: Mode | None = None) -> list[Doc]:
    """Run the pipes of ``mode`` (default: :func:`served_mode`) over texts, in the mode's order."""
    mode = mode or served_mode(nlp)
    if mode not in available_modes(nlp):
        raise ValueError(f"this pipeline cannot run mode {mode!r} (it has {', '.join(nlp.pipe_names)})")
    docs: Iterable[Doc] = (nlp.make_doc(t) for t in texts)
    for name in STEPS[mode]:
        docs = _pipe(nlp.get_pipe(name), docs)
    return list(docs)


def _pipe(component: Any, docs: Iterable[Doc]) -> Iterable[Doc]:
    """A component over a stream of docs, in batches when it can."""
    if hasattr(component, "pipe"):
        return cast(Iterable[Doc], component.pipe(docs, batch_size=16))
    return map(component, docs)


def spans_of(docs: list[Doc]) -> list[SpanSet]:
    """Each doc's entities as character spans."""
    return [{(e.start_char, e.end_char, e.label_) for e in d.ents} for d in docs]


def load_pipeline(folder: Path) -> Language:
    """Load a saved skills pipeline (the context component is registered by this module's import)."""
    return spacy.load(folder)


def evaluate_records(nlp: Language, records: list[Record]) -> dict[str, dict]:
    """Span P/R/F1 of every mode the pipeline can run against the records' spans."""
    from nlpops.skills.score import score_spans

    gold_docs, _ = to_docs(nlp, records)
    gold = spans_of(gold_docs)
    texts = [d.text for d in gold_docs]
    return {mode: score_spans(gold, spans_of(annotate(nlp, texts, mode))) for mode in available_modes(nlp)}
