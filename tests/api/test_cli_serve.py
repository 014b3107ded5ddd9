"""``nlpops serve``: options reach the settings and uvicorn."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from nlpops.cli.serve import app


def test_serve_passes_options(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, model_dir: Path) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda api, **kw: seen.update(api=api, **kw))
    db = f"sqlite:///{tmp_path / 'x.db'}"
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = CliRunner().invoke(
        app,
        ["--model", str(model_dir), "--port", str(port), "--database-url", db, "--reload-interval", "0"],
    )
    assert result.exit_code == 0, result.output
    assert (seen["host"], seen["port"]) == ("127.0.0.1", port)
    settings = seen["api"].state.settings
    assert (settings.model_uri, settings.database_url, settings.reload_interval_s) == (str(model_dir), db, 0)
    assert f"serving {model_dir} on http://127.0.0.1:{port}" in result.output
