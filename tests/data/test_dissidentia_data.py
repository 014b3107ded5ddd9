"""dissidentIA's labelled Grand Débat sentences: label strings, dropping ``inclassable``, stratified split."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from nlpops.config import load_config
from nlpops.data import check_leakage, detect_format, load_dataset, split_dataset
from nlpops.data.normalize import normalize_text

DATA_DIR = Path(os.environ.get("NLPOPS_DATA_DIR") or Path(__file__).parents[2] / "../shared/data").resolve()
FILE = DATA_DIR / "dissidentia_labels_v4.csv.gz"
CONFIG = Path(__file__).parents[2] / "configs" / "dissidentia.yaml"
pytestmark = pytest.mark.skipif(not FILE.is_file(), reason=f"real data file {FILE} is absent")


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return load_dataset(FILE)


def test_format_is_detected_and_labels_are_the_file_strings(frame: pd.DataFrame) -> None:
    assert detect_format(FILE) == "dissidentia" == frame.attrs["format"]
    assert len(frame) == 915
    assert frame["label"].value_counts().to_dict() == {
        "non dissident": 671,
        "dissident": 212,
        "inclassable": 32,
    }
    assert list(frame.columns) == ["id", "text", "label", "group"]
    assert frame["group"].notna().all() and frame["group"].nunique() < len(frame)  # answers hold sentences


def test_config_drops_inclassable_and_split_is_stratified_and_deduplicated(frame: pd.DataFrame) -> None:
    cfg = load_config(CONFIG)
    kept = frame[~frame["label"].isin(cfg.data.drop_labels)]
    assert set(kept["label"]) == {"dissident", "non dissident"}
    split = split_dataset(
        kept, seed=cfg.split.seed, val_size=cfg.split.val_size, test_size=cfg.split.test_size
    )
    assert split.stratified
    check_leakage(split.train, split.val, split.test)
    n_unique = kept["text"].map(normalize_text).nunique()
    assert sum(split.sizes().values()) == n_unique < len(kept)  # the duplicated texts collapse
    share = {name: (f["label"] == "dissident").mean() for name, f in split.frames().items()}
    assert max(share.values()) - min(share.values()) < 0.02  # same class balance in every split
