"""Dataset validation: a report of sizes, empties, duplicates, conflicts, balance and lengths."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from nlpops.data.loaders import load_dataset
from nlpops.data.normalize import normalize_text
from nlpops.data.readers import ColumnMap
from nlpops.errors import DataError

IMBALANCE_RATIO = 5.0


class LengthStats(BaseModel):
    """Summary of a length distribution."""

    min: float
    median: float
    mean: float
    p95: float
    max: float

    @classmethod
    def of(cls, values: np.ndarray) -> LengthStats | None:
        """Stats of an array of lengths (None when empty)."""
        if values.size == 0:
            return None
        low, median, p95, high = (round(float(q), 2) for q in np.percentile(values, [0, 50, 95, 100]))
        return cls(min=low, median=median, mean=round(float(values.mean()), 2), p95=p95, max=high)


class ValidationReport(BaseModel):
    """What :func:`validate_dataset` found; ``errors`` are fatal, ``warnings`` are not."""

    path: str
    format: str | None = None
    rows: int = 0
    empty_texts: int = Field(0, description="Missing, empty or whitespace-only texts.")
    unlabelled: int = Field(0, description="Rows without a label.")
    exact_duplicates: int = Field(0, description="Rows whose exact text appeared on an earlier row.")
    normalized_duplicates: int = Field(0, description="Rows whose normalised text appeared earlier.")
    conflicting_texts: int = Field(0, description="Normalised texts that carry more than one label.")
    conflicting_rows: int = Field(0, description="Rows holding one of those texts.")
    class_balance: dict[str, int] = Field(default_factory=dict)
    chars: LengthStats | None = None
    words: LengthStats | None = None
    errors: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when there are no fatal errors."""
        return not self.errors


def _duplicate_stats(df: pd.DataFrame) -> dict[str, int]:
    """Exact and normalised duplicates, and normalised texts with conflicting labels."""
    texts = df.loc[df["text"].str.strip() != "", ["text", "label"]]
    norm = pd.Series([normalize_text(t) for t in texts["text"]], index=texts.index)
    n_labels = texts["label"].groupby(norm).nunique(dropna=True)
    conflicting = n_labels.index[n_labels > 1]
    return {
        "exact_duplicates": int(texts["text"].duplicated().sum()),
        "normalized_duplicates": int(norm.duplicated().sum()),
        "conflicting_texts": len(conflicting),
        "conflicting_rows": int(norm.isin(conflicting).sum()),
    }


def _span_errors(df: pd.DataFrame) -> int:
    """How many spans fall outside their text or have start >= end."""
    if "spans" not in df:
        return 0
    return sum(
        1
        for text, spans in zip(df["text"], df["spans"], strict=True)
        for start, end, _ in spans
        if not 0 <= start < end <= len(text)
    )


def _warnings(report: ValidationReport, df: pd.DataFrame) -> list[str]:
    """Non-fatal findings, one sentence each."""
    found: list[str] = []
    if report.empty_texts:
        found.append(f"{report.empty_texts} empty or missing texts")
    if report.exact_duplicates:
        found.append(f"{report.exact_duplicates} rows repeat an earlier text exactly")
    if report.normalized_duplicates > report.exact_duplicates:
        extra = report.normalized_duplicates - report.exact_duplicates
        found.append(f"{extra} more rows repeat an earlier text after normalisation")
    if report.conflicting_texts:
        found.append(
            f"{report.conflicting_texts} texts ({report.conflicting_rows} rows) carry conflicting labels"
        )
    if 0 < report.unlabelled < report.rows:
        found.append(f"{report.unlabelled} rows have no label")
    counts = list(report.class_balance.values())
    if len(counts) == 1:
        found.append("only one class")
    elif counts and max(counts) / min(counts) > IMBALANCE_RATIO:
        found.append(f"classes are imbalanced (largest/smallest = {max(counts) / min(counts):.1f})")
    if "timestamp" in df and (missing := int(df["timestamp"].isna().sum())):
        found.append(f"{missing} rows have no timestamp")
    if bad_spans := _span_errors(df):
        found.append(f"{bad_spans} spans fall outside their text")
    return found


def validate_frame(df: pd.DataFrame, path: str = "", fmt: str | None = None) -> ValidationReport:
    """Build the validation report of a standard frame (see :func:`load_dataset`).

    Args:
        df (pd.DataFrame): The loaded data.
        path (str): The source, for the report.
        fmt (str | None): The source format, for the report.

    Returns:
        ValidationReport: The report.
    """
    texts = df["text"].fillna("").astype(str)
    labels = df["label"] if "label" in df else pd.Series([None] * len(df), dtype=object)
    chars = texts.str.len().to_numpy()
    words = np.fromiter((len(t.split()) for t in texts), dtype=np.int64, count=len(texts))
    report = ValidationReport(
        path=path,
        format=fmt,
        rows=len(df),
        empty_texts=int((texts.str.strip() == "").sum()),
        unlabelled=int(labels.isna().sum()),
        class_balance={str(k): int(v) for k, v in labels.value_counts().items()},
        chars=LengthStats.of(chars),
        words=LengthStats.of(words),
        **_duplicate_stats(df.assign(text=texts, label=labels)),
    )
    if report.rows == 0 or report.empty_texts == report.rows:
        report.errors.append(f"{path}: no non-empty texts")
    report.warnings.extend(_warnings(report, df))
    return report


def validate_dataset(
    path: str | Path,
    fmt: str | None = None,
    columns: ColumnMap | Mapping[str, str | None] | None = None,
    label_map: Mapping[Any, str] | None = None,
) -> ValidationReport:
    """Load a dataset and report on it; a load failure becomes the report's (only) error.

    Args:
        path (str | Path): The file.
        fmt (str | None): The format, or None to detect it.
        columns (ColumnMap | Mapping[str, str | None] | None): Column mapping for the generic formats.
        label_map (Mapping[Any, str] | None): Raw label → name.

    Returns:
        ValidationReport: The report; check ``report.ok`` / ``report.errors``.
    """
    try:
        df = load_dataset(path, fmt=fmt, columns=columns, label_map=label_map)
    except DataError as exc:
        return ValidationReport(path=str(path), format=fmt, errors=[str(exc)])
    return validate_frame(df, path=str(path), fmt=df.attrs.get("format", fmt))
