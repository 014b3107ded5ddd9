"""Skill lists → spaCy EntityRuler patterns: clean Wikipedia names, add aliases, flag ambiguous names.

The seed project's ruler matched every list name everywhere, so "Lean" (as in lean management) and
"ML" (machine learning) became programming languages. Here a name that is also an ordinary word or a
very short abbreviation is *ambiguous*: the ruler still proposes it, and the ``skills_context``
component (:mod:`nlpops.skills.components`) keeps it only with context.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from nlpops.data.files import data_dir
from nlpops.data.jsonl import iter_records
from nlpops.skills.schema import LABELS

# Which list file feeds which label (matched on the file name, as in the seed project's data/ folder).
LIST_LABELS = {
    "languages": "PROG_LANG",
    "databases": "DB",
    "platforms": "PLATFORM",
    "frameworks": "FRAMEWORKS",
}
_CATEGORY = re.compile(r"\s*\((?:\d+ [CP],?\s*)+\)$")  # "Amazon Web Services (42 P)": a Wikipedia category
_PAREN = re.compile(r"\s*\([^)]*\)")  # "PostgreSQL (free software)", "Swift (Apple programming language)"
_REFS = re.compile(r"\[\d+\]")  # "[22][23] Couchbase", "Riak[6]"
_SUFFIX = re.compile(r"\s+[–-]\s+ISO.*$|;.*$")  # "C – ISO/IEC 9899", "Oracle RDF Graph; part of …"
MAX_AMBIGUOUS_CHARS = 2


@dataclass(frozen=True)
class Skill:
    """One skill name the ruler matches: the surface form, its normalised name and label."""

    text: str
    canonical: str
    label: str


def clean_name(raw: str) -> str | None:
    """A list entry as a matchable name, or None for entries that are not one skill.

    Wikipedia category entries whose cleaned name holds a lowercase word ("Cloud databases (11 P)")
    are categories, not products, and are dropped; "Amazon Web Services (42 P)" is kept.

    >>> clean_name("Amazon Web Services (42 P)"), clean_name("Cloud databases (11 P)")
    ('Amazon Web Services', None)
    """
    name = _REFS.sub("", raw).strip()
    is_category = bool(_CATEGORY.search(name))
    name = _SUFFIX.sub("", _PAREN.sub("", name)).strip(" ,;")
    if not name or (is_category and any(w[:1].islower() for w in name.split())):
        return None
    return name


def _resource_lines(name: str) -> list[str]:
    text = resources.files("nlpops.skills").joinpath("resources", name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def default_ambiguous() -> set[str]:
    """Lowercased skill names that need context (shipped ``resources/ambiguous.txt``)."""
    return {line.lower() for line in _resource_lines("ambiguous.txt")}


def default_cue_words() -> list[str]:
    """Lowercased words that make an ambiguous name a skill (shipped ``resources/cue_words.txt``)."""
    return [line.lower() for line in _resource_lines("cue_words.txt")]


# The shipped aliases, by provenance: the names the guidelines name, and names no gold text holds.
SHIPPED_ALIASES = ("aliases.tsv", "aliases_common.tsv")


def read_aliases(path: Path | None = None) -> list[Skill]:
    """Aliases (``alias<TAB>canonical<TAB>label``); the shipped files when ``path`` is None."""
    if path is None:
        return [s for name in SHIPPED_ALIASES for s in shipped_aliases(name)]
    return _parse_aliases(path.read_text(encoding="utf-8").splitlines(), str(path))


def shipped_aliases(name: str) -> list[Skill]:
    """One shipped aliases file (see :data:`SHIPPED_ALIASES`)."""
    return _parse_aliases(_resource_lines(name), f"resources/{name}")


def _parse_aliases(lines: list[str], where: str) -> list[Skill]:
    skills = []
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.startswith("#") or line.startswith("alias\t"):
            continue
        parts = line.split("\t")
        if len(parts) != 3 or parts[2] not in LABELS:
            raise ValueError(
                f"{where}: line {number}: expected 'alias<TAB>canonical<TAB>label', got {line!r}"
            )
        skills.append(Skill(parts[0].strip(), parts[1].strip(), parts[2].strip()))
    return skills


def label_for_file(path: Path) -> str:
    """The label of a skill-list file, from its name (``…languages.csv`` → PROG_LANG)."""
    for key, label in LIST_LABELS.items():
        if key in path.name.lower():
            return label
    raise ValueError(
        f"{path}: cannot tell the label from the file name (expected one of {list(LIST_LABELS)})"
    )


def find_skill_list(path: Path) -> Path:
    """The skill-list file ``path``, else the same relative path in the data folder.

    Raises:
        FileNotFoundError: in neither place; the message names the file and the lists the data
            folder holds (a shell pattern that matched nothing arrives here as it was typed).
    """
    if path.is_file():
        return path
    if not path.is_absolute() and (data_dir() / path).is_file():
        return data_dir() / path
    if path.is_dir():
        raise IsADirectoryError(f"{path}: a folder, not a skill-list CSV")
    pattern = " (a shell pattern that matched no file)" if any(c in str(path) for c in "*?[") else ""
    found = sorted(p.name for p in data_dir().glob("*skills_*.csv*"))
    where = (
        f"the skill lists are in the data folder {data_dir()}: {', '.join(found)} "
        f"(e.g. {data_dir() / 'ner_jobs_skills_*.csv.gz'})"
        if found
        else f"the data folder {data_dir()} (NLPOPS_DATA_DIR) holds no skill list either"
    )
    raise FileNotFoundError(f"{path}: no such file{pattern}; {where}")


def read_skill_list(path: Path) -> list[Skill]:
    """Read a skill-list CSV (column ``name``; gzip or plain) into cleaned skills of the file's label."""
    path = find_skill_list(path)
    label = label_for_file(path)
    opener: Callable[..., Any] = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or "name" not in reader.fieldnames:
            raise ValueError(f"{path}: expected a CSV with a 'name' column, got {reader.fieldnames}")
        skills = []
        for row in reader:
            name = clean_name(row["name"] or "")
            if name:
                skills.append(Skill(name, name, label))
    if not skills:
        raise ValueError(f"{path}: no skill names in the file")
    return skills


def merge_skills(
    lists: Iterable[Iterable[Skill]], aliases: Iterable[Skill], not_skills: set[str] | None = None
) -> list[Skill]:
    """One skill per lowercased surface form: the first list wins, aliases override (they fix labels;
    the last alias of a form wins), and the names the guidelines never tag (``not_skills``, lowercased)
    are left out of both."""
    merged: dict[str, Skill] = {}
    for skills in lists:
        for skill in skills:
            merged.setdefault(skill.text.lower(), skill)
    for alias in aliases:
        merged[alias.text.lower()] = alias
    drop = not_skills or set()
    return sorted((s for k, s in merged.items() if k not in drop), key=lambda s: s.text.lower())


def is_ambiguous(name: str, ambiguous: set[str]) -> bool:
    """Whether ``name`` needs context: listed as ambiguous, or 2 letters or fewer.

    A short name with a symbol ("C#", "C++", ".NET"-like) is no ordinary word, so it needs none.
    """
    return name.lower() in ambiguous or (len(name) <= MAX_AMBIGUOUS_CHARS and name.isalpha())


def default_not_skills() -> set[str]:
    """Lowercased names the guidelines never tag (shipped ``resources/not_skills.txt``)."""
    return {line.lower() for line in _resource_lines("not_skills.txt")}


_JS = re.compile(r"^(?P<stem>.+?)\.?js$", re.IGNORECASE)


def spelling_variants(name: str) -> list[str]:
    """The spellings postings use for one name: as listed, lowercase, capitalised, glued, and for a
    JavaScript library the ``.js`` / ``JS`` / `` JS`` forms ("Node.js", "NodeJS", "Node JS").

    >>> spelling_variants("Power BI")
    ['Power BI', 'power bi', 'Power bi', 'PowerBI']
    """
    forms = [name, name.lower(), name.capitalize()]
    if " " in name:
        forms.append(name.replace(" ", ""))
    js = _JS.match(name)
    if js and len(js["stem"]) > 1:
        stem = js["stem"].rstrip(". ")
        forms += [f"{stem}.js", f"{stem}JS", f"{stem} JS", f"{stem}Js"]
    return list(dict.fromkeys(forms))


def build_patterns(skills: list[Skill], lang: str = "fr") -> list[dict[str, Any]]:
    """EntityRuler phrase patterns for ``skills``; the pattern id is the normalised (canonical) name.

    Phrase patterns (matched on lowercased tokens, ``phrase_matcher_attr: LOWER``) run about 10×
    faster than the same names as token patterns (measured: ~20 vs ~200 postings/s for ~1,600 names).
    A camel-case name ("JavaScript") is split by the pipeline's tokenizer, its lowercase or
    capitalised spelling ("Javascript") is not: each distinct tokenization of each spelling
    (:func:`spelling_variants`) gets a pattern.
    """
    import spacy

    from nlpops.skills.tokens import split_glued_words

    tokenizer = split_glued_words(spacy.blank(lang)).tokenizer
    patterns, seen = [], set()
    for s in skills:
        for form in spelling_variants(s.text):
            key = (s.label, tuple(t.lower_ for t in tokenizer(form)))
            if key not in seen:
                seen.add(key)
                patterns.append({"label": s.label, "pattern": form, "id": s.canonical})
    return patterns


def build_ruler_patterns(
    lists: list[Path], aliases: Path | None = None, lang: str = "fr"
) -> list[dict[str, Any]]:
    """Skill-list CSVs (+ aliases) → EntityRuler patterns (the ``build-ruler`` stage)."""
    if not lists:
        raise ValueError("no skill-list files given")
    skills = merge_skills((read_skill_list(p) for p in lists), read_aliases(aliases), default_not_skills())
    return build_patterns(skills, lang)


def write_patterns(patterns: list[dict[str, Any]], out: Path) -> Path:
    """Write patterns as JSONL (one pattern a line), atomically."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in patterns), encoding="utf-8")
    tmp.replace(out)
    return out


def read_patterns(path: Path) -> list[dict[str, Any]]:
    """Read EntityRuler patterns (JSONL, gzip or plain), checking each line's shape."""
    patterns = []
    for number, item in iter_records(path):
        if "label" not in item or "pattern" not in item:
            raise ValueError(f"{path}: line {number}: a pattern needs 'label' and 'pattern'")
        patterns.append(item)
    if not patterns:
        raise ValueError(f"{path}: no patterns in the file")
    return patterns
