"""``nlpops serve``: options reach the settings and uvicorn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from nlpops.cli.serve import app


def test_serve_passes_options(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda api, **kw: seen.update(api=api, **kw))
    db = f"sqlite:///{tmp_path / 'x.db'}"
    result = CliRunner().invoke(
        app,
        [
            "--model",
            "models:/demo@champion",
            "--port",
            "8123",
            "--database-url",
            db,
            "--reload-interval",
            "0",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (seen["host"], seen["port"]) == ("127.0.0.1", 8123)
    settings = seen["api"].state.settings
    assert (settings.model_uri, settings.database_url, settings.reload_interval_s) == (
        "models:/demo@champion",
        db,
        0,
    )
    assert "serving models:/demo@champion on http://127.0.0.1:8123" in result.output
