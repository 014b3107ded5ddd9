"""Settings: where a command writes by default does not depend on the folder it runs in."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlpops.settings import Settings


def test_the_model_cache_defaults_to_the_user_cache_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NLPOPS_MODEL_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache-home"))
    monkeypatch.chdir(tmp_path)
    assert Settings(_env_file=None).model_cache_dir == tmp_path / "cache-home" / "nlpops" / "models"


def test_the_model_cache_folder_is_configurable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NLPOPS_MODEL_CACHE_DIR", str(tmp_path / "models"))
    assert Settings(_env_file=None).model_cache_dir == tmp_path / "models"
    assert Settings(_env_file=None, model_cache_dir=tmp_path / "given").model_cache_dir == tmp_path / "given"


def test_the_settings_table_of_the_docs_is_up_to_date() -> None:
    import runpy

    root = Path(__file__).resolve().parents[2]
    table = runpy.run_path(str(root / "scripts" / "settings_table.py"))["settings_table"]()
    docs = (root / "docs" / "operations.md").read_text(encoding="utf-8")
    between = docs.split("<!-- settings-table:start -->\n", 1)[1].split("<!-- settings-table:end -->", 1)[0]
    assert between.strip() == table.strip(), "run scripts/settings_table.py and paste into docs/operations.md"
