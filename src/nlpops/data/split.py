"""Leak-free splitting: normalise, deduplicate, drop conflicts, then stratified or grouped splits."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupShuffleSplit, train_test_split

from nlpops.data.files import sha256_file
from nlpops.data.normalize import normalize_text
from nlpops.errors import DataError, LeakageError
from nlpops.outputs import staged_dir


@dataclass
class SplitResult:
    """Three disjoint frames and how they were made (see :func:`split_dataset`)."""

    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame
    seed: int
    val_size: float
    test_size: float
    group_col: str | None = None
    stratified: bool = False
    source: str | None = None
    dropped: dict[str, int] = field(default_factory=dict)

    def frames(self) -> dict[str, pd.DataFrame]:
        """The splits by name."""
        return {"train": self.train, "val": self.val, "test": self.test}

    def sizes(self) -> dict[str, int]:
        """Rows per split."""
        return {name: len(frame) for name, frame in self.frames().items()}

    def label_counts(self) -> dict[str, dict[str, int]]:
        """Rows per label in each split."""
        return {
            name: {str(k): int(v) for k, v in frame["label"].value_counts().sort_index().items()}
            for name, frame in self.frames().items()
        }


def _deduplicate(df: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Drop empty texts, unlabelled rows (in labelled data), conflicting-label and duplicate texts."""
    empty = df["text"].fillna("").astype(str).str.strip() == ""
    unlabelled = df["label"].isna() & bool(df["label"].notna().any()) & ~empty
    kept = df[~empty & ~unlabelled]
    norm = pd.Series([normalize_text(t) for t in kept["text"]], index=kept.index)
    n_labels = kept["label"].groupby(norm).nunique(dropna=True)
    conflicting = norm.isin(n_labels.index[n_labels > 1])
    duplicate = norm[~conflicting].duplicated(keep="first")
    dropped = {
        "empty": int(empty.sum()),
        "unlabelled": int(unlabelled.sum()),
        "conflict_texts": int((n_labels > 1).sum()),
        "conflict_rows": int(conflicting.sum()),
        "duplicates": int(duplicate.sum()),
    }
    return kept[~conflicting][~duplicate.to_numpy()], dropped


def _split_off(
    labels: np.ndarray, groups: np.ndarray | None, size: float, seed: int
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Split positions ``0..n-1`` into (rest, held-out); returns whether it was stratified."""
    positions = np.arange(len(labels))
    if size <= 0 or len(labels) == 0:
        return positions, positions[:0], False
    if groups is not None:
        splitter = GroupShuffleSplit(n_splits=1, test_size=size, random_state=seed)
        rest, held = next(splitter.split(positions, groups=groups))
        return rest, held, False
    try:
        rest, held = train_test_split(positions, test_size=size, random_state=seed, stratify=labels)
        return rest, held, True
    except ValueError:  # a class too small to stratify, or no labels at all
        rest, held = train_test_split(positions, test_size=size, random_state=seed)
        return rest, held, False


def split_dataset(
    df: pd.DataFrame,
    seed: int = 42,
    val_size: float = 0.1,
    test_size: float = 0.1,
    group_col: str | None = None,
    source: str | Path | None = None,
) -> SplitResult:
    """Deduplicate on normalised text, then split into train/val/test without leakage.

    Exact normalised duplicates collapse to their first row; texts seen with different labels are
    dropped entirely. Splits are stratified by label, or, with ``group_col``, grouped (no group in two
    splits; rows without a group are their own group). Same data and seed → same split.

    Args:
        df (pd.DataFrame): A standard frame (``text``, ``label``, ...).
        seed (int): Random seed.
        val_size (float): Fraction for validation (of the deduplicated rows, or of the groups).
        test_size (float): Fraction for test.
        group_col (str | None): Column whose values must not cross splits (e.g. ``group``).
        source (str | Path | None): The source file, for the manifest (default: ``df.attrs["source"]``).

    Returns:
        SplitResult: The splits, in source order, and what was dropped.

    Raises:
        DataError: On bad sizes, a missing group column or too little data to split.
    """
    if not (0 <= val_size < 1 and 0 <= test_size < 1 and val_size + test_size < 1):
        raise DataError(f"val_size ({val_size}) and test_size ({test_size}) must be >= 0 and sum below 1")
    if group_col is not None and group_col not in df:
        raise DataError(f"group column {group_col!r} not found; columns: {', '.join(map(str, df.columns))}")
    label_col = df["label"] if "label" in df else pd.Series([None] * len(df), index=df.index, dtype=object)
    kept, dropped = _deduplicate(df.assign(label=label_col))
    labels = kept["label"].fillna("").astype(str).to_numpy()
    groups = None
    if group_col is not None:
        fallback = pd.Series([f"__row{i}" for i in range(len(kept))], index=kept.index)
        groups = (
            kept[group_col].astype(object).where(kept[group_col].notna(), fallback).astype(str).to_numpy()
        )
    try:
        rest, test, stratified = _split_off(labels, groups, test_size, seed)
        inner_size = val_size / (1 - test_size)
        sub_groups = groups[rest] if groups is not None else None
        train, val, inner_strat = _split_off(labels[rest], sub_groups, inner_size, seed)
    except ValueError as exc:
        raise DataError(f"cannot split {len(kept)} rows: {exc}") from None
    parts = {"train": rest[train], "val": rest[val], "test": test}
    frames = {name: kept.iloc[np.sort(pos)].reset_index(drop=True) for name, pos in parts.items()}
    for name, frame in frames.items():
        frame.attrs = {"split": name}
    origin = source if source is not None else df.attrs.get("source")
    return SplitResult(
        **frames,
        seed=seed,
        val_size=val_size,
        test_size=test_size,
        group_col=group_col,
        stratified=stratified or inner_strat,
        source=str(origin) if origin else None,
        dropped=dropped,
    )


def check_leakage(*frames: pd.DataFrame, text_col: str = "text") -> None:
    """Raise if any normalised text occurs in two of the given frames.

    Args:
        *frames (pd.DataFrame): The splits (named by ``attrs["split"]`` when set).
        text_col (str): The text column.

    Raises:
        LeakageError: Naming how many texts leak and one example.
    """
    owner: dict[str, str] = {}
    leaks: list[tuple[str, str, str]] = []
    for index, frame in enumerate(frames):
        name = str(frame.attrs.get("split", f"frame {index}"))
        for norm in {normalize_text(str(t)) for t in frame[text_col]}:
            if norm in owner:
                leaks.append((norm, owner[norm], name))
            else:
                owner[norm] = name
    if leaks:
        text, first, second = leaks[0]
        raise LeakageError(
            f"{len(leaks)} normalised texts appear in more than one split, "
            f"e.g. {text!r} in {first} and {second}"
        )


def _parquet_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """Spans as structs, so parquet can store them."""
    if "spans" not in frame:
        return frame
    spans = pd.Series(
        [[{"start": s, "end": e, "label": t} for s, e, t in row] for row in frame["spans"]], index=frame.index
    )
    return frame.assign(spans=spans)


def write_split(result: SplitResult, out_dir: str | Path) -> Path:
    """Write ``train/val/test.parquet`` and ``manifest.json`` into ``out_dir``.

    Args:
        result (SplitResult): The splits.
        out_dir (str | Path): Output folder (created if needed).

    Returns:
        Path: The manifest's path.
    """
    out = Path(out_dir)
    with staged_dir(out) as stage:  # all the files or none
        files: dict[str, dict[str, Any]] = {}
        for name, frame in result.frames().items():
            target = stage / f"{name}.parquet"
            _parquet_ready(frame).to_parquet(target, index=False)
            files[target.name] = {"rows": len(frame), "sha256": sha256_file(target)}
        manifest = _manifest(result, files)
        (stage / "manifest.json").write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    return out / "manifest.json"


def _manifest(result: SplitResult, files: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The manifest: source file and hash, parameters, sizes, label counts, drops, written files."""
    source = Path(result.source) if result.source else None
    return {
        "source": {
            "path": str(source) if source else None,
            "sha256": sha256_file(source) if source and source.is_file() else None,
        },
        "seed": result.seed,
        "val_size": result.val_size,
        "test_size": result.test_size,
        "group_col": result.group_col,
        "stratified": result.stratified,
        "sizes": result.sizes(),
        "label_counts": result.label_counts(),
        "dropped": result.dropped,
        "files": files,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
