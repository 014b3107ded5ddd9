"""Split: deduplication, determinism, stratification, groups, leakage check, manifest and CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from nlpops.cli.data import app
from nlpops.data import DataError, LeakageError, check_leakage, load_dataset, split_dataset, write_split


def _frame(n: int = 200, positive_share: float = 0.3) -> pd.DataFrame:
    n_pos = int(n * positive_share)
    labels = ["pos"] * n_pos + ["neg"] * (n - n_pos)
    return pd.DataFrame(
        {
            "text": [f"text number {i}" for i in range(n)],
            "label": labels,
            "group": [f"user{i % 20}" for i in range(n)],
        }
    )


def test_dedup_and_conflicts() -> None:
    df = pd.DataFrame(
        {
            "text": ["Same text", "same   TEXT @bob", "clash", "CLASH", "", *[f"t{i}" for i in range(20)]],
            "label": ["a", "a", "a", "b", "a", *(["a", "b"] * 10)],
        }
    )
    result = split_dataset(df, seed=1, val_size=0.2, test_size=0.2)
    assert result.dropped == {
        "empty": 1,
        "unlabelled": 0,
        "conflict_texts": 1,
        "conflict_rows": 2,
        "duplicates": 1,
    }
    assert sum(result.sizes().values()) == 21
    all_texts = pd.concat(result.frames().values())["text"].tolist()
    assert "Same text" in all_texts and "clash" not in all_texts and "CLASH" not in all_texts


def test_same_seed_same_split_other_seed_other_split() -> None:
    df = _frame()
    first, again, other = split_dataset(df, seed=3), split_dataset(df, seed=3), split_dataset(df, seed=4)
    for name in ("train", "val", "test"):
        pd.testing.assert_frame_equal(first.frames()[name], again.frames()[name])
    assert set(first.test["text"]) != set(other.test["text"])


def test_stratified_proportions() -> None:
    result = split_dataset(_frame(1000, 0.3), val_size=0.1, test_size=0.2)
    assert result.stratified
    assert result.sizes() == {"train": 700, "val": 100, "test": 200}
    for frame in result.frames().values():
        assert (frame["label"] == "pos").mean() == pytest.approx(0.3, abs=0.01)


def test_group_split_keeps_groups_apart() -> None:
    result = split_dataset(_frame(), group_col="group", val_size=0.2, test_size=0.2)
    groups = [set(frame["group"]) for frame in result.frames().values()]
    assert all(groups) and not (groups[0] & groups[1] or groups[0] & groups[2] or groups[1] & groups[2])
    with pytest.raises(DataError, match="group column 'nope' not found"):
        split_dataset(_frame(), group_col="nope")


def test_bad_sizes() -> None:
    with pytest.raises(DataError, match="sum below 1"):
        split_dataset(_frame(), val_size=0.5, test_size=0.5)


def test_check_leakage() -> None:
    result = split_dataset(_frame())
    check_leakage(result.train, result.val, result.test)
    leaky = pd.concat([result.test, pd.DataFrame({"text": [result.train["text"].iloc[0].upper() + "  "]})])
    with pytest.raises(LeakageError, match=r"1 normalised texts appear in more than one split, e\.g\. 'text"):
        check_leakage(result.train, result.val, leaky)


def test_write_split_manifest_and_round_trip(tmp_path: Path) -> None:
    source = tmp_path / "src.csv"
    _frame().to_csv(source, index=False)
    result = split_dataset(load_dataset(source), seed=7)
    manifest_path = write_split(result, tmp_path / "out")
    manifest = json.loads(manifest_path.read_text())
    assert manifest["source"]["path"] == str(source) and len(manifest["source"]["sha256"]) == 64
    assert manifest["seed"] == 7 and manifest["sizes"] == result.sizes()
    assert manifest["label_counts"]["train"] == result.label_counts()["train"]
    assert manifest["dropped"]["duplicates"] == 0 and "created" in manifest
    assert set(manifest["files"]) == {"train.parquet", "val.parquet", "test.parquet"}
    train = load_dataset(tmp_path / "out" / "train.parquet")
    assert train["text"].tolist() == result.train["text"].tolist()
    assert train["group"].tolist() == result.train["group"].tolist()


def test_spans_survive_parquet(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {
            "text": [f"Python {i}" for i in range(10)],
            "label": [None] * 10,
            "spans": [[(0, 6, "PROG_LANG")]] * 10,
        }
    )
    write_split(split_dataset(df, val_size=0.2, test_size=0.2), tmp_path)
    assert load_dataset(tmp_path / "test.parquet")["spans"].tolist() == [[(0, 6, "PROG_LANG")]] * 2


def test_cli_validate_and_split(tmp_path: Path) -> None:
    source = tmp_path / "src.csv"
    _frame().rename(columns={"text": "body"}).to_csv(source, index=False)
    runner = CliRunner()
    ok = runner.invoke(app, ["validate", str(source), "--text-col", "body", "--json"])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["rows"] == 200
    bad = runner.invoke(app, ["validate", str(source)])
    assert bad.exit_code == 1 and "missing column(s) text" in bad.output
    out = tmp_path / "split"
    args = ["split", str(source), "--out", str(out), "--text-col", "body", "--group-col", "group"]
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    assert (
        "manifest" in done.output and json.loads((out / "manifest.json").read_text())["group_col"] == "group"
    )
