"""The ruler's lexicon: the data files' names, and the gazetteer learned from training gold only."""

from __future__ import annotations

from nlpops.skills.lexicon import GoldLexicon, Lexicon, surface_key
from nlpops.skills.patterns import Skill
from nlpops.skills.schema import Record


def tagged(text: str, *names: tuple[str, str]) -> Record:
    """``text`` with a span at the first occurrence of each (name, label)."""
    spans = tuple((text.index(n), text.index(n) + len(n), label) for n, label in names)
    return Record(text, spans)


def learned(records: list[Record], **params: float) -> dict[str, tuple[str, str, str]]:
    lexicon = GoldLexicon(**params).fit(records)
    return {surface_key(s.text): (s.text, s.canonical, s.label) for s in lexicon.skills_}


def test_learns_each_surface_with_its_majority_label_and_spelling() -> None:
    records = [
        tagged("We use Spring Boot and Kafka.", ("Spring Boot", "FRAMEWORKS"), ("Kafka", "FRAMEWORKS")),
        tagged("spring boot, Kafka streams.", ("spring boot", "FRAMEWORKS"), ("Kafka", "PLATFORM")),
        tagged("Kafka on prem.", ("Kafka", "FRAMEWORKS")),
    ]
    names = learned(records)
    assert names["spring boot"] == ("Spring Boot", "Spring Boot", "FRAMEWORKS")  # first of the tied spellings
    assert names["kafka"] == ("Kafka", "Kafka", "FRAMEWORKS")  # 2 FRAMEWORKS against 1 PLATFORM


def test_a_name_mostly_written_as_a_plain_word_is_not_learned() -> None:
    records = [
        tagged("Spark and Scala.", ("Spark", "FRAMEWORKS"), ("Scala", "PROG_LANG")),
        Record("These tools spark joy, spark ideas and spark talks.", ()),
    ]
    assert set(learned(records)) == {"scala"}  # spark: 1 gold span of 4 occurrences
    assert set(learned(records, min_precision=0.25)) == {"scala", "spark"}
    assert GoldLexicon().fit(records).precision_["spark"] == (1, 4)


def test_fit_learns_from_the_given_records_only() -> None:
    train = [tagged("Python and Zorblax.", ("Python", "PROG_LANG"), ("Zorblax", "FRAMEWORKS"))]
    test = [tagged("Quintor only.", ("Quintor", "DB"))]
    assert set(learned(train)) == {"python", "zorblax"}
    assert "quintor" not in learned(train) and set(learned(test)) == {"quintor"}


def test_learned_names_override_the_lists_but_not_the_aliases_nor_not_skills() -> None:
    lexicon = Lexicon(
        ((Skill("Kafka", "Kafka", "PLATFORM"), Skill("Redis", "Redis", "PLATFORM")),),
        (Skill("Redis", "Redis", "DB"),),
        frozenset({"excel"}),
    )
    learned_names = [
        Skill("Kafka", "Kafka", "FRAMEWORKS"),
        Skill("Redis", "Redis", "FRAMEWORKS"),
        Skill("Excel", "Excel", "FRAMEWORKS"),
        Skill("Mockito", "Mockito", "FRAMEWORKS"),
    ]
    labels = {s.text: s.label for s in lexicon.skills(learned_names)}
    assert labels == {"Kafka": "FRAMEWORKS", "Redis": "DB", "Mockito": "FRAMEWORKS"}
    assert {s.text: s.label for s in lexicon.skills()} == {"Kafka": "PLATFORM", "Redis": "DB"}
    ids = {p["id"] for p in lexicon.patterns(learned_names)}
    assert ids == {"Kafka", "Redis", "Mockito"}
