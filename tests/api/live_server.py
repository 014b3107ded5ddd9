"""A real API process (uvicorn) for the tests that need one: load, crash, outage, fuzzing.

The model is the tiny saved folder of ``conftest.model_dir`` (this folder goes on ``PYTHONPATH`` so
the server can unpickle it); the database is any SQLAlchemy URL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from server_support import free_port, wait_ready

API_DIR = Path(__file__).resolve().parent


class LiveServer:
    """``python -m uvicorn nlpops.serve.app:create_app --factory`` on a loopback port.

    Args:
        database_url: the feedback store.
        model_dir: a saved nlpops model folder.
        workdir: cwd of the server and where its log goes.
        env: more environment variables (``NLPOPS_*`` settings).
        cli: start ``nlpops serve`` (the command users run, with its HTTP limits) instead of uvicorn.
    """

    def __init__(
        self,
        database_url: str,
        model_dir: Path,
        workdir: Path,
        env: dict[str, str] | None = None,
        cli: bool = False,
    ) -> None:
        self.cli = cli
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.log = workdir / f"server-{self.port}.log"
        self.env = {
            **os.environ,
            "NLPOPS_MODEL_URI": str(model_dir),
            "NLPOPS_DATABASE_URL": database_url,
            "NLPOPS_RELOAD_INTERVAL_S": "0",
            "NLPOPS_SPIKE_INTERVAL_S": "0",
            "NLPOPS_MODEL_CACHE_DIR": str(workdir / "cache"),
            "NLPOPS_SPOOL_DIR": str(workdir / "spool"),
            # Explanations in threads: a worker process costs each start ~3 s of CPU; the tests of
            # the workers (test_hardening) and the browser tests' server use them.
            "NLPOPS_EXPLAIN_PROCESSES": "false",
            "PYTHONPATH": os.pathsep.join([str(API_DIR), os.environ.get("PYTHONPATH", "")]),
            **(env or {}),
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 60) -> LiveServer:
        """Start (again, on the same port) and wait for ``/ready``."""
        if self.cli:
            cmd = [sys.executable, "-m", "nlpops", "serve", "--port", str(self.port)]
        else:
            cmd = [sys.executable, "-m", "uvicorn", "nlpops.serve.app:create_app", "--factory"]
            cmd += ["--host", "127.0.0.1", "--port", str(self.port)]
        cmd += ["--log-level", "warning"]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(cmd, env=self.env, cwd=self.workdir, stdout=out, stderr=out)
        wait_ready(self.base, self.proc, self.log, timeout_s)
        return self

    def kill(self) -> None:
        """``kill -9``: no shutdown hook runs."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self, timeout_s: float = 30) -> int:
        """SIGTERM and wait for the exit; returns the exit code."""
        assert self.proc is not None
        self.proc.terminate()
        return self.proc.wait(timeout_s)

    def stop(self) -> None:
        """SIGTERM (graceful), SIGKILL if it does not stop in 15 s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.kill()
