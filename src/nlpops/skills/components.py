"""The skills spaCy components: ``skills_context`` (ambiguous skill names survive only with context)
and ``skills_transformer`` (entities from a token-classification transformer, ``tagger.py``).

Imported lazily (it imports spaCy and registers the factories), before a pipeline is built or loaded;
torch and transformers are imported only when a ``skills_transformer`` runs, trains or loads.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import minibatch

from nlpops.models.names import current_params
from nlpops.skills.patterns import is_ambiguous

# Tokens that may separate the items of a skills list ("Python, R et Go", "Java/Go").
SENTENCE_ENDS = frozenset({".", "!", "?", ";"})
SEPARATORS = frozenset({",", "/", "&", ";", ":", "(", ")", "-", "|", "and", "or", "et", "ou", "+"})


def _neighbour_skill(doc: Doc, ent: Span, is_ambiguous: Any) -> bool:
    """Whether the nearest non-separator token on either side belongs to an unambiguous entity."""
    owner = {i: e for e in doc.ents for i in range(e.start, e.end)}
    for step, start in ((-1, ent.start - 1), (1, ent.end)):
        i = start
        while 0 <= i < len(doc) and doc[i].lower_ in SEPARATORS:
            i += step
        if i == start:  # glued to its neighbour without a separator: not a list
            continue
        other = owner.get(i)
        if other is not None and other is not ent and not is_ambiguous(other.text):
            return True
    return False


class SkillsContext:
    """Drop entities whose text is an ambiguous skill name unless it is capitalised and a cue word is
    within ``window`` tokens in the same sentence, or it sits in a list next to an unambiguous skill."""

    def __init__(self, ambiguous: list[str], cue_words: list[str], window: int) -> None:
        self.ambiguous = {a.lower() for a in ambiguous}
        self.cue_words = {c.lower() for c in cue_words}
        self.window = window

    def is_ambiguous(self, text: str) -> bool:
        """Whether an entity text needs context."""
        return is_ambiguous(text.strip(), self.ambiguous)

    def has_context(self, doc: Doc, ent: Span) -> bool:
        """A cue word nearby, or a neighbouring unambiguous skill in a list."""
        left = list(doc[max(0, ent.start - self.window) : ent.start])
        right = list(doc[ent.end : ent.end + self.window])
        ends = [i for i, t in enumerate(left) if t.text in SENTENCE_ENDS]
        left = left[ends[-1] + 1 :] if ends else left  # the window stops at the sentence's end
        right = right[: next((i for i, t in enumerate(right) if t.text in SENTENCE_ENDS), len(right))]
        if any(t.lower_ in self.cue_words for t in (*left, *right)):
            return True
        return _neighbour_skill(doc, ent, self.is_ambiguous)

    def keep(self, doc: Doc, ent: Span) -> bool:
        """Unambiguous names stay; an ambiguous one all in lowercase ("plus", "go") is a plain word."""
        if not self.is_ambiguous(ent.text):
            return True
        return not ent.text.islower() and self.has_context(doc, ent)

    def __call__(self, doc: Doc) -> Doc:
        doc.ents = [e for e in doc.ents if self.keep(doc, e)]
        return doc


@Language.factory(
    "skills_context",
    default_config={"ambiguous": [], "cue_words": [], "window": 8},
)
def make_skills_context(
    nlp: Language, name: str, ambiguous: list[str], cue_words: list[str], window: int
) -> SkillsContext:
    """Factory used by spaCy's config system (and saved pipelines)."""
    return SkillsContext(ambiguous, cue_words, window)


class TransformerSkills:
    """Entities from a :class:`~nlpops.skills.tagger.SkillsTagger`, as spaCy's NER sets them: spans
    that overlap an entity already there (the ruler's, when it runs first) are left out, and spans
    not on token boundaries are widened to the tokens they touch."""

    def __init__(self, params: dict[str, Any]) -> None:
        from nlpops.skills.tagger import SkillsTagger

        self.params = current_params(
            params, SkillsTagger._get_param_names()
        )  # a pipeline saved with old names
        self.tagger: Any = None

    def fit(self, records: list[Any], epoch_callback: Any = None) -> list[float]:
        """Fine-tune a new tagger on annotated records; returns each epoch's loss."""
        from nlpops.skills.tagger import SkillsTagger

        self.tagger = SkillsTagger(**self.params).fit(records, epoch_callback)
        return list(self.tagger.history_)

    def _fitted(self) -> Any:
        if self.tagger is None:
            raise ValueError("the skills_transformer component is not trained (fit it, or load a pipeline)")
        return self.tagger

    def __call__(self, doc: Doc) -> Doc:
        return self._set_ents(doc, self._fitted().predict_spans([doc.text])[0])

    def pipe(self, docs: Iterable[Doc], batch_size: int = 16) -> Iterator[Doc]:
        """Tag documents a batch at a time (one model call per batch of windows)."""
        for batch in minibatch(docs, size=batch_size):
            spans = self._fitted().predict_spans([d.text for d in batch])
            yield from (self._set_ents(d, s) for d, s in zip(batch, spans, strict=True))

    @staticmethod
    def _set_ents(doc: Doc, spans: set[tuple[int, int, str]]) -> Doc:
        ents = list(doc.ents)
        taken = {i for e in ents for i in range(e.start, e.end)}
        for start, end, label in sorted(spans):
            span = doc.char_span(start, end, label=label, alignment_mode="expand")
            if span is None or taken.intersection(range(span.start, span.end)):
                continue
            ents.append(span)
            taken.update(range(span.start, span.end))
        doc.ents = ents
        return doc

    def to_disk(self, path: Path, exclude: Iterable[str] = ()) -> None:
        """Save the tagger (model, tokenizer, parameters) with the pipeline."""
        self._fitted().save(path)

    def from_disk(self, path: Path, exclude: Iterable[str] = ()) -> TransformerSkills:
        """Load the tagger saved with the pipeline."""
        from nlpops.skills.tagger import SkillsTagger

        self.tagger = SkillsTagger.load(path)
        return self


@Language.factory("skills_transformer", default_config={"params": {}})
def make_skills_transformer(nlp: Language, name: str, params: dict[str, Any]) -> TransformerSkills:
    """Factory used by spaCy's config system (and saved pipelines)."""
    return TransformerSkills(params)
