"""doccano JSONL → spaCy docs: read and check the export, resolve duplicated postings, align spans.

The scrape repeats postings, and each copy was exported with its own annotation. Most copies carry
the untouched EntityRuler pre-annotation; a few were corrected by hand. :func:`resolve_duplicates`
keeps one annotation per distinct text, preferring a reviewed (corrected) one.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nlpops.data.jsonl import iter_records
from nlpops.skills.schema import LABELS, Record, SpanT

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc


@dataclass
class AlignIssue:
    """A span that did not fall on token boundaries, and what was done about it."""

    record: str
    start: int
    end: int
    label: str
    text: str
    action: str


@dataclass
class ImportReport:
    """What an import read, kept and fixed."""

    rows: int = 0
    distinct: int = 0
    spans: int = 0
    issues: list[AlignIssue] = field(default_factory=list)

    @property
    def fixed(self) -> int:
        return sum(i.action.startswith("fixed") for i in self.issues)

    @property
    def dropped(self) -> int:
        return sum(not i.action.startswith("fixed") for i in self.issues)


def _parse_spans(raw: Any, where: str, text: str) -> tuple[SpanT, ...]:
    if not isinstance(raw, list):
        raise ValueError(f"{where}: 'label' must be a list of [start, end, label]")
    spans = []
    for item in raw:
        if isinstance(item, dict):  # newer doccano: {"start_offset", "end_offset", "label"}
            item = [item.get("start_offset"), item.get("end_offset"), item.get("label")]
        if not (isinstance(item, list) and len(item) == 3 and all(isinstance(v, int) for v in item[:2])):
            raise ValueError(f"{where}: bad span {item!r}: expected [start, end, label]")
        start, end, label = item
        if label not in LABELS:
            raise ValueError(f"{where}: unknown label {label!r} (known: {', '.join(LABELS)})")
        if not 0 <= start < end <= len(text):
            raise ValueError(f"{where}: span [{start}, {end}] outside the text ({len(text)} characters)")
        spans.append((start, end, label))
    return tuple(sorted(spans))


def read_doccano(path: Path, span_key: str = "label") -> list[Record]:
    """Read a doccano JSONL export (``{"id", "text", "label": [[start, end, TAG], ...]}``), gzip or plain.

    Raises:
        ValueError: a line that is not a JSON object, lacks ``text``, or has a bad span (file and line named).
    """
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    records = []
    for number, item in iter_records(path):
        where = f"{path}: line {number}"
        if not isinstance(item.get("text"), str):
            raise ValueError(f"{where}: expected an object with a 'text' string")
        raw = item.get(span_key, item.get("entities", item.get("ents", [])))
        spans = _parse_spans(raw, where, item["text"])
        records.append(Record(item["text"], spans, str(item.get("id", number)), number))
    if not records:
        raise ValueError(f"{path}: no annotated texts in the file")
    return records


def resolve_duplicates(records: list[Record], preannotated: list[Record] | None = None) -> list[Record]:
    """One record per distinct text (first-seen order), marked ``reviewed`` when someone corrected it.

    Copies of a text that still carry the pre-annotation are unreviewed. Without the pre-annotation
    file, the most frequent annotation of a text stands for it. The earliest differing copy wins.
    """
    pre = {r.text: r.spans for r in preannotated or []}
    groups: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        groups[record.text].append(record)
    resolved = []
    for text, copies in groups.items():
        baseline = pre.get(text)
        if baseline is None:
            baseline = Counter(c.spans for c in copies).most_common(1)[0][0] if len(copies) > 1 else None
        corrected = [c for c in copies if baseline is not None and c.spans != baseline]
        chosen = corrected[0] if corrected else copies[0]
        resolved.append(replace(chosen, reviewed=bool(corrected)))
    return resolved


def _fix_span(doc: Doc, start: int, end: int, label: str) -> tuple[Any, str]:
    """The token-aligned span for ``[start, end)``, or None, and what was done."""
    text = doc.text
    stripped_start = start + len(text[start:end]) - len(text[start:end].lstrip())
    stripped_end = end - (len(text[start:end]) - len(text[start:end].rstrip()))
    span = doc.char_span(stripped_start, stripped_end, label=label)
    if span is not None:
        return span, "" if (stripped_start, stripped_end) == (start, end) else "fixed: stripped whitespace"
    wide = doc.char_span(stripped_start, stripped_end, label=label, alignment_mode="expand")
    if wide is not None and not any(
        ch.isalnum() for ch in wide.text.replace(text[stripped_start:stripped_end], "", 1)
    ):
        return wide, f"fixed: expanded to {wide.text!r}"
    inside = doc.char_span(stripped_start, stripped_end, label=label, alignment_mode="contract")
    if inside is not None and not any(
        ch.isalnum() for ch in text[stripped_start:stripped_end].replace(inside.text, "", 1)
    ):
        return inside, f"fixed: contracted to {inside.text!r}"
    hint = f"tokens {wide.text!r}" if wide is not None else "no tokens"
    return None, f"dropped: not on token boundaries ({hint})"


def align(nlp: Language, record: Record) -> tuple[Doc, list[AlignIssue]]:
    """Tokenize a record and set its spans as entities, fixing what is safe and listing the rest."""
    doc = nlp.make_doc(record.text)
    issues: list[AlignIssue] = []
    ents: list[Any] = []
    taken: set[int] = set()
    for start, end, label in record.spans:
        span, action = _fix_span(doc, start, end, label)
        if span is not None and taken & set(range(span.start, span.end)):
            span, action = None, "dropped: overlaps another span"
        if action:
            issues.append(AlignIssue(record.id, start, end, label, record.text[start:end], action))
        if span is not None:
            ents.append(span)
            taken |= set(range(span.start, span.end))
    doc.ents = sorted(ents, key=lambda s: s.start)
    return doc, issues


def to_docs(nlp: Language, records: list[Record]) -> tuple[list[Doc], ImportReport]:
    """Align every record; the report counts spans and lists alignment issues."""
    report = ImportReport(rows=len(records), distinct=len({r.text for r in records}))
    docs = []
    for record in records:
        doc, issues = align(nlp, record)
        doc.user_data["id"], doc.user_data["reviewed"] = record.id, record.reviewed
        docs.append(doc)
        report.spans += len(record.spans)
        report.issues += issues
    return docs, report


def write_docbin(docs: list[Doc], out: Path) -> Path:
    """Save docs as a spaCy ``DocBin`` (atomically)."""
    from spacy.tokens import DocBin

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    DocBin(docs=docs, store_user_data=True).to_disk(tmp)
    tmp.replace(out)
    return out


def docs_to_records(docs: list[Doc]) -> list[Record]:
    """Entities of docs back as character-span records (the round trip of an import)."""
    return [
        Record(
            d.text,
            tuple((e.start_char, e.end_char, e.label_) for e in d.ents),
            str(d.user_data.get("id", "")),
        )
        for d in docs
    ]
