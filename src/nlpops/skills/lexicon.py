"""The ruler's lexicon by provenance: the data files allowed in every fold, and a lexicon learned from gold.

The shipped files (the skill lists, ``resources/aliases*.tsv``, ``not_skills.txt``) come from the
annotation guidelines and from names that no gold text holds (``tests/data/test_skills_data.py`` checks
both), so they serve every cross-validation fold. The names only the gold texts teach ("Spring Boot",
"Mockito", the typo "Jenkin") are learned by :class:`GoldLexicon` from the TRAINING texts of a fold or
split, like any preprocessing step fitted on train only: a test fold's names never reach its ruler.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlpops.skills.patterns import (
    Skill,
    build_patterns,
    default_not_skills,
    merge_skills,
    read_aliases,
    read_skill_list,
)
from nlpops.skills.schema import Record


@dataclass(frozen=True)
class Lexicon:
    """The names of the data files: skill lists (first wins), guideline aliases (override), and the
    names the guidelines never tag."""

    lists: tuple[tuple[Skill, ...], ...]
    aliases: tuple[Skill, ...]
    not_skills: frozenset[str]

    @classmethod
    def from_files(cls, lists: list[Path], aliases: Path | None = None) -> Lexicon:
        """Read the skill-list CSVs and an aliases TSV (None: the shipped ones)."""
        if not lists:
            raise ValueError("no skill-list files given")
        return cls(
            tuple(tuple(read_skill_list(p)) for p in lists),
            tuple(read_aliases(aliases)),
            frozenset(default_not_skills()),
        )

    def skills(self, learned: Sequence[Skill] = ()) -> list[Skill]:
        """One skill per surface form: learned names override the lists, the aliases override both."""
        return merge_skills(self.lists, [*learned, *self.aliases], set(self.not_skills))

    def patterns(self, learned: Sequence[Skill] = (), lang: str = "fr") -> list[dict[str, Any]]:
        """EntityRuler patterns of :meth:`skills`."""
        return build_patterns(self.skills(learned), lang)


def surface_key(text: str) -> str:
    """A span's surface as the ruler compares it: lowercased, whitespace collapsed."""
    return " ".join(text.lower().split())


class GoldLexicon:
    """Learn a gazetteer from gold spans, scikit-learn style (``fit`` on training records only).

    Every gold surface form becomes a skill with the label the training gold gives it most often and
    its most frequent spelling as normalised name, if it is right often enough where it occurs in the
    training texts: of the places its lowercased tokens occur, at least ``min_precision`` are gold spans
    of that label (so "Spark" tagged once and written "spark joy" three times is left out). Ambiguous
    names ("R", "Go", "Spring") stay in: the ruler's context rule keeps them only with a cue word.

    Args:
        min_precision: the share of a name's occurrences in the training texts that must be gold spans.
        lang: the tokenizer's language (the pipeline's glued-word tokenizer is used).
    """

    def __init__(self, min_precision: float = 0.5, lang: str = "fr") -> None:
        self.min_precision = min_precision
        self.lang = lang

    def fit(self, records: Sequence[Record], y: None = None) -> GoldLexicon:
        """Learn ``skills_`` (and ``precision_``: per surface key, (gold hits, occurrences))."""
        labels: dict[str, Counter[str]] = defaultdict(Counter)
        spellings: dict[str, Counter[str]] = defaultdict(Counter)
        for record in records:
            for start, end, label in record.spans:
                surface = record.text[start:end].strip()
                if surface:
                    labels[surface_key(surface)][label] += 1
                    spellings[surface_key(surface)][surface] += 1
        chosen = {key: counts.most_common(1)[0][0] for key, counts in labels.items()}
        self.precision_ = self._occurrences(records, chosen, spellings)
        self.skills_ = [
            Skill(spellings[key].most_common(1)[0][0], spellings[key].most_common(1)[0][0], label)
            for key, label in sorted(chosen.items())
            if self._precise(*self.precision_[key])
        ]
        return self

    def _precise(self, hits: int, found: int) -> bool:
        # a name the tokenizer never finds whole in the training texts (glued to a word) is kept
        return found == 0 or hits / found >= self.min_precision

    def _occurrences(
        self, records: Sequence[Record], chosen: dict[str, str], spellings: dict[str, Counter[str]]
    ) -> dict[str, tuple[int, int]]:
        """Per key, how many of its token matches in the training texts are gold spans of its label."""
        import spacy
        from spacy.matcher import PhraseMatcher

        from nlpops.skills.tokens import split_glued_words

        nlp = split_glued_words(spacy.blank(self.lang))
        matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        for key in chosen:
            matcher.add(key, [nlp.make_doc(s) for s in spellings[key]])
        counts = {key: [0, 0] for key in chosen}
        for record in records:
            doc = nlp.make_doc(record.text)
            for match_id, start, end in matcher(doc):
                key = nlp.vocab.strings[match_id]
                span = doc[start:end]
                counts[key][1] += 1
                counts[key][0] += (span.start_char, span.end_char, chosen[key]) in record.spans
        return {key: (hits, found) for key, (hits, found) in counts.items()}
