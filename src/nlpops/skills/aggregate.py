"""Extraction: postings in, one row per posting with the skills found (normalised) per category."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from nlpops.data.jsonl import read_jsonl
from nlpops.skills.schema import LABELS

if TYPE_CHECKING:
    from spacy.language import Language

TEXT_COLUMNS = ("text", "Description", "description")
SEP = "; "


def _read_table(path: Path) -> pd.DataFrame:
    """A CSV, or JSON lines for ``.jsonl``/``.json`` (gzip or plain), with one clear error."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    if path.name.lower().removesuffix(".gz").endswith((".jsonl", ".json")):
        return read_jsonl(path)
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a readable CSV ({exc})") from exc


def read_postings(path: Path) -> pd.DataFrame:
    """Postings as ``posting`` (row id), ``title`` and ``text``; exact duplicate texts are dropped.

    Reads a CSV (``text`` or ``Description`` column, as in the LinkedIn scrape) or a JSONL file with
    ``text`` (a doccano export works), gzip or plain.

    Raises:
        ValueError: no text column, or no non-empty text (the file is named).
    """
    frame = _read_table(path)
    column = next((c for c in TEXT_COLUMNS if c in frame.columns), None)
    if column is None:
        raise ValueError(
            f"{path}: no text column (expected one of {list(TEXT_COLUMNS)}), got {list(frame.columns)}"
        )
    title = next((c for c in ("Job_title", "title") if c in frame.columns), None)
    out = pd.DataFrame(
        {
            "posting": frame.index.astype(int),
            "title": frame[title].astype(str) if title else "",
            "text": frame[column],
        }
    )
    out = out[out["text"].notna() & (out["text"].astype(str).str.strip() != "")]
    if out.empty:
        raise ValueError(f"{path}: no non-empty text in column {column!r}")
    return out.drop_duplicates("text").reset_index(drop=True)


def skill_lookup(nlp: Language) -> dict[str, str]:
    """Lowercased token sequence → normalised name, from the pipeline's ruler patterns (phrase
    patterns are tokenized as the ruler tokenizes them; token patterns are read off)."""
    if "entity_ruler" not in nlp.pipe_names:
        return {}
    lookup = {}
    for pattern in nlp.get_pipe("entity_ruler").patterns:  # type: ignore[attr-defined]
        tokens, skill = pattern["pattern"], pattern.get("id")
        if not skill:
            continue
        if isinstance(tokens, str):
            key = " ".join(t.lower_ for t in nlp.make_doc(tokens))
        else:
            key = " ".join(str(t.get("LOWER", "")) for t in tokens)
        lookup[key] = str(skill)
    return lookup


def normalise(ent: Any, lookup: dict[str, str]) -> str:
    """The normalised name of an entity: the ruler's id, else a known spelling, else its text."""
    if ent.ent_id_:
        return str(ent.ent_id_)
    return lookup.get(" ".join(t.lower_ for t in ent), ent.text.strip())


def extract_skills(nlp: Language, postings: pd.DataFrame) -> pd.DataFrame:
    """One row per posting: the surface forms found (``skills``) and the normalised names per label."""
    from nlpops.skills.ner import annotate

    lookup = skill_lookup(nlp)
    rows = []
    docs = annotate(nlp, postings["text"].astype(str).tolist())
    for posting, doc in zip(postings.itertuples(index=False), docs, strict=True):
        found: dict[str, list[str]] = {label: [] for label in LABELS}
        for ent in doc.ents:
            name = normalise(ent, lookup)
            if ent.label_ in found and name not in found[ent.label_]:
                found[ent.label_].append(name)
        surfaces = list(dict.fromkeys(e.text.strip() for e in doc.ents))
        rows.append(
            {"posting": posting.posting, "title": posting.title, "skills": SEP.join(surfaces)}
            | {label: SEP.join(names) for label, names in found.items()}
            | {"n_skills": sum(len(v) for v in found.values())}
        )
    return pd.DataFrame(rows)


def write_csv(frame: pd.DataFrame, out: Path) -> Path:
    """Write a CSV atomically (a temp file, then a rename)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    frame.to_csv(tmp, index=False)
    tmp.replace(out)
    return out


def read_extracted(path: Path) -> pd.DataFrame:
    """Read an ``extract`` CSV back, checking it has the per-label columns."""
    frame = pd.read_csv(path, keep_default_na=False)
    missing = [c for c in ("posting", *LABELS) if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: not an extract CSV (missing columns {missing})")
    return frame


def demand(extracted: pd.DataFrame, top: int = 15) -> dict[str, pd.DataFrame]:
    """Per label, the most demanded skills: postings mentioning each, and their share of all postings."""
    n = max(len(extracted), 1)
    tables = {}
    for label in LABELS:
        names = extracted[label].astype(str).str.split(SEP).explode()
        counts = names[names.str.strip() != ""].value_counts().head(top)
        tables[label] = pd.DataFrame(
            {"skill": counts.index, "postings": counts.to_numpy(), "share": counts.to_numpy() / n}
        )
    return tables
