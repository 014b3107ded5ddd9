"""Tiny job postings with character spans, shared by the skills tests."""

from __future__ import annotations

import json
from pathlib import Path

SENTENCES = [
    ("We need {} and {} on {}.", ("Python", "PROG_LANG"), ("PostgreSQL", "DB"), ("AWS", "PLATFORM")),
    ("Vous maîtrisez {} et {} sur {}.", ("Java", "PROG_LANG"), ("MongoDB", "DB"), ("Azure", "PLATFORM")),
    (
        "Experience with {}, {} and {} required.",
        ("Scala", "PROG_LANG"),
        ("Docker", "FRAMEWORKS"),
        ("MySQL", "DB"),
    ),
    (
        "Connaissance de {} ou {} appréciée, {} un plus.",
        ("TensorFlow", "FRAMEWORKS"),
        ("PyTorch", "FRAMEWORKS"),
        ("Kotlin", "PROG_LANG"),
    ),
    (
        "Build services in {} with {} and store data in {}.",
        ("Ruby", "PROG_LANG"),
        ("Kubernetes", "FRAMEWORKS"),
        ("Redis", "DB"),
    ),
    ("Stack: {}, {}, {}.", ("JavaScript", "PROG_LANG"), ("Django", "FRAMEWORKS"), ("Snowflake", "DB")),
]


def make_record(template: str, *skills: tuple[str, str]) -> dict:
    """A doccano-style record whose spans are computed from the template."""
    text, spans, rest = "", [], template.split("{}")
    for piece, (name, label) in zip(rest, skills, strict=False):
        text += piece
        spans.append([len(text), len(text) + len(name), label])
        text += name
    text += rest[-1]
    return {"text": text, "label": spans}


def tiny_records() -> list[dict]:
    """Six distinct postings, each once."""
    return [make_record(t, *s) for t, *s in SENTENCES]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    """Write records as doccano JSONL (ids from 1)."""
    path.write_text(
        "".join(json.dumps({"id": i} | r) + "\n" for i, r in enumerate(records, 1)), encoding="utf-8"
    )
    return path
