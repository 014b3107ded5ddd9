"""The README's "Your first hour" block, run as written against the state ``make demo`` leaves.

The block is read from README.md at test time, so the README cannot drift from what works. The
state is rebuilt in a throw-away folder: ``.venv`` (this interpreter's environment), ``mlruns.db``
with ``demo@champion`` from one fast ``nlpops train configs/demo.yaml`` run, and the shipped sample.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from e2e_support import ROOT

from server_support import free_port

pytestmark = pytest.mark.slow
SECTION = "## Your first hour"
VENV = Path(sys.prefix)


def readme_block(section: str = SECTION) -> str:
    """The first fenced ``bash`` block under ``section`` in README.md."""
    text = (ROOT / "README.md").read_text("utf-8")
    start = text.index(f"\n{section}\n")
    end = text.find("\n## ", start + 1)
    found = re.search(r"```bash\n(.*?)```", text[start : end if end != -1 else None], re.S)
    assert found, f"README.md: no bash block under {section!r}"
    return found.group(1)


def _clean_env(workdir: Path, **extra: str) -> dict[str, str]:
    """This environment without settings that would point nlpops away from ``workdir``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NLPOPS_", "MLFLOW_"))}
    env.pop("VIRTUAL_ENV", None)
    env["NLPOPS_SPOOL_DIR"] = str(workdir / "spool")  # not the user's state folder
    return {**env, **extra}


def _make_demo_state(workdir: Path) -> None:
    """What ``make demo`` leaves in the repository root, cut to one fast model and one recipe."""
    (workdir / ".venv").symlink_to(VENV)
    for name in ("configs", "data"):
        (workdir / name).symlink_to(ROOT / name)
    train = [str(VENV / "bin" / "nlpops"), "train", "configs/demo.yaml", "--models", "tfidf_lr"]
    train += ["--recipes", "minimal"]
    done = subprocess.run(train, cwd=workdir, env=_clean_env(workdir), capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (workdir / "mlruns.db").is_file()


def _stop_group(pgid: int, timeout_s: float = 20) -> None:
    """SIGTERM the block's process group (the server it left running), SIGKILL if it lingers."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.killpg(pgid, signal.SIGKILL)


def _json_lines(output: str) -> list[dict[str, object]]:
    """The lines of ``output`` that are JSON objects (the server's own log lines are not)."""
    found = []
    for line in output.splitlines():
        if line.startswith("{"):
            found.append(json.loads(line))
    return found


def test_readme_block_serves_the_demo_champion() -> None:
    block = readme_block()
    assert "source .venv/bin/activate" in block
    assert "nlpops serve --model models:/demo@champion" in block
    assert "http://127.0.0.1:8000/" in block and "/dashboard" in block
    assert "sentiment140" not in block  # make demo registers "demo", nothing else


def test_first_hour_as_the_readme_says(tmp_path: Path) -> None:
    if not (VENV / "bin" / "nlpops").exists() or not (VENV / "bin" / "activate").exists():
        pytest.skip(f"not run from a virtual environment with nlpops installed ({VENV})")
    _make_demo_state(tmp_path)
    port = free_port()
    log = tmp_path / "block.log"
    with log.open("w") as out:
        # its own process group: the block leaves the server running in the background
        proc = subprocess.Popen(
            ["bash", "-e", "-o", "pipefail", "-c", readme_block()],
            cwd=tmp_path,
            env=_clean_env(tmp_path, PORT=str(port)),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        assert proc.wait(timeout=120) == 0, log.read_text()
        output = log.read_text()
        ready, answer, feedback, stats = _json_lines(output)
        assert ready["ready"] is True, output
        prediction = answer["predictions"][0]  # type: ignore[index]
        assert prediction["label"] == "negative" and answer["model_name"] == "demo", output
        assert feedback["prediction_id"] == prediction["prediction_id"] and feedback["correct"] is True
        assert (stats["total_predictions"], stats["total_feedback"], stats["accuracy"]) == (1, 1, 1.0)

        # "open http://127.0.0.1:8000/": the page the block names, serving the demo's champion
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert page.status_code == 200 and "<h1>Classify texts</h1>" in page.text
        assert "Model: demo v1" in page.text
    finally:
        _stop_group(proc.pid)
