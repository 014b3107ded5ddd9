"""A private PostgreSQL server for the tests that stop the database (the shared one must keep running).

``initdb`` into a temporary folder and ``pg_ctl`` on a port of its own, run as the ``postgres`` system
user when the tests run as root (PostgreSQL refuses root). Skips, saying why, when the server binaries
(``/usr/lib/postgresql/*/bin`` or on ``PATH``) are absent.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from server_support import free_port


def find_bin_dir() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl``: the newest Debian install, else the ``PATH``."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    for folder in reversed(candidates):
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("pg_ctl") else None


class PrivatePostgres:
    """One throw-away PostgreSQL cluster: ``start``, ``stop`` (immediate, like a crash), ``remove``."""

    def __init__(self) -> None:
        bin_dir = find_bin_dir()
        if bin_dir is None:
            pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql")
        self.bin_dir = bin_dir
        self.as_root = os.geteuid() == 0
        self.root = Path(tempfile.mkdtemp(prefix="nlpops-pg-"))  # not pytest's tmp: postgres must enter it
        self.data = self.root / "data"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        if self.as_root:
            shutil.chown(self.root, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")

    def _run(self, tool: str, *args: str) -> None:
        cmd = [str(self.bin_dir / tool), *args]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            log = (self.root / "log").read_text() if (self.root / "log").exists() else ""
            raise RuntimeError(f"{tool} {' '.join(args)} failed:\n{done.stdout}{done.stderr}{log}")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")

    def stop(self) -> None:
        """Stop at once, like a crash (``-m immediate``): open connections are cut."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def _processes(self) -> list[int]:
        """The postmaster and its children (the backends, the checkpointer...)."""
        master = int((self.data / "postmaster.pid").read_text().split()[0])
        children = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                fields = dict(
                    line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line
                )
            except OSError:
                continue
            if fields.get("PPid", "").strip() == str(master):
                children.append(int(status.parent.name))
        return [master, *children]

    def pause(self) -> None:
        """SIGSTOP every process of the server: connections stay open, nothing answers (a hung server)."""
        for pid in self._processes():
            os.kill(pid, signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after :meth:`pause`."""
        for pid in self._processes():
            os.kill(pid, signal.SIGCONT)

    def remove(self) -> None:
        """Stop if running and delete the cluster."""
        if (self.data / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
