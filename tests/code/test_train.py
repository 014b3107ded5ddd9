"""Run planning: models × recipes, explicit recipes kept, unknown names refused before training."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlpops.config import ConfigError, load_config
from nlpops.train import build_planned, plan_runs

CFG = """
name: t
registered_model: t
data: {path: x.csv}
preprocessing: {recipe: minimal, compare: [stem, lemma]}
models:
  vader: {kind: vader, recipe: none}
  lr: {kind: tfidf_lr}
"""


@pytest.fixture
def cfg(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "c.yaml"
    path.write_text(CFG)
    return load_config(path)


def test_compare_expands_recipes_but_keeps_explicit_ones(cfg) -> None:  # type: ignore[no-untyped-def]
    labels = [r.label for r in plan_runs(cfg)]
    assert labels == ["vader[none]", "lr[stem]", "lr[lemma]"]


def test_cli_filters_win(cfg) -> None:  # type: ignore[no-untyped-def]
    labels = [r.label for r in plan_runs(cfg, models=["lr"], recipes=["minimal"])]
    assert labels == ["lr[minimal]"]


def test_unknown_model_name_is_refused(cfg) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="not in the config"):
        plan_runs(cfg, models=["svm"])


def test_built_model_gets_recipe_and_language(cfg) -> None:  # type: ignore[no-untyped-def]
    model = build_planned(plan_runs(cfg, models=["lr"])[0], "fr")
    assert model.get_params()["recipe"] == "stem" and model.get_params()["lang"] == "fr"
