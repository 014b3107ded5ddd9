"""Serving benchmark: our FastAPI service vs ``mlflow models serve`` on the same model, in one run.

Usage:
    .venv/bin/python bench/bench_serve.py [--pin] [--requests 2000] [--warmup 200]
                                          [--concurrency 1,8,32,64] [--keep]
                                          [--client wrk --duration 15] [--workers 2]

What it does, all on 127.0.0.1 and inside one temporary folder (removed at the end, Ctrl-C included):

1. trains a ``tfidf_lr`` champion on ``data/sample/sentiment140_sample.csv`` into a throw-away MLflow
   store (``nlpops train configs/demo.yaml --models tfidf_lr``), giving ``models:/demo@champion``;
2. starts ``nlpops serve`` (a real uvicorn process, SQLite feedback store, no registry polling) and waits
   for ``GET /ready``;
3. starts ``mlflow models serve --env-manager local`` on the same model and waits for ``GET /ping``;
4. for each concurrency, sends ``--warmup`` then ``--requests`` single-text predictions (real tweets from
   the sample, cycling) to each server from a keep-alive asyncio HTTP/1.1 client with exactly
   ``concurrency`` connections, and prints p50/p99 latency, requests/s and the ratios ours/MLflow;
   With ``--client wrk`` the load comes from Debian's ``wrk`` instead (C, one thread, far lighter than
   the Python client, so the server keeps more of the CPU): ``--warmup-s`` seconds of warm-up then
   ``--duration`` seconds measured per server and concurrency, its own p50/p99 and requests/s;
5. checks that feedback on a just-returned prediction is accepted (201).

The load generator shares the machine: on a 2-core box it takes CPU from the server under test.
``--pin`` runs both servers on core 0 (``taskset``) and the load generator on core 1, so the server
gets one whole core and the client the other. ``--workers N`` runs N uvicorn workers in each server.
Goals (issue 4): p99 <= 20 ms at 32 concurrent requests and >= 2x MLflow's throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
SAMPLE = ROOT / "data" / "sample" / "sentiment140_sample.csv"
HOST = "127.0.0.1"
P99_GOAL_MS, P99_GOAL_CONCURRENCY, THROUGHPUT_GOAL = 20.0, 32, 2.0


@dataclass
class Result:
    """What one (server, concurrency) run measured."""

    server: str
    concurrency: int
    requests: int
    errors: int
    wall_s: float
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        """Successful requests per second."""
        return (self.requests - self.errors) / self.wall_s if self.wall_s else 0.0


@dataclass
class Target:
    """A server under test: where to POST and the body of each text."""

    name: str
    port: int
    path: str
    bodies: list[bytes]


# --- processes ---------------------------------------------------------------------------------------
def free_port() -> int:
    """A TCP port free on the loopback right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def stop(proc: subprocess.Popen[bytes], grace_s: float = 10.0) -> None:
    """Stop a process started in its own session, and its children (SIGTERM, then SIGKILL)."""
    if proc.poll() is not None:
        return
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def server(
    cmd: list[str], env: dict[str, str], log: Path, pin: str | None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``cmd`` (pinned to ``pin`` cores with taskset) in its own process group; stop it on exit."""
    if pin is not None:
        cmd = ["taskset", "-c", pin, *cmd]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield proc
    finally:
        stop(proc)


def wait_http(proc: subprocess.Popen[bytes], url: str, log: Path, timeout_s: float) -> None:
    """Poll ``url`` until it answers 200; fail with the server's log when it dies or times out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited ({proc.returncode}) before {url} answered:\n{tail(log)}")
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} not ready after {timeout_s:.0f} s:\n{tail(log)}")


def tail(path: Path, lines: int = 30) -> str:
    """The end of a log file."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --- load generator ---------------------------------------------------------------------------------
async def _connection(
    target: Target, counter: Iterator[int], latencies: list[float], errors: list[str], deadline: float
) -> None:
    """One keep-alive connection sending requests one after the other until the counter runs out."""
    reader, writer = await asyncio.open_connection(HOST, target.port)
    head = f"POST {target.path} HTTP/1.1\r\nHost: {HOST}:{target.port}\r\nContent-Type: application/json\r\n"
    try:
        for i in counter:
            if time.monotonic() > deadline:
                errors.append("deadline")
                continue
            body = target.bodies[i % len(target.bodies)]
            request = (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body
            start = time.perf_counter()
            writer.write(request)
            status_line = await reader.readline()
            length = -1
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length < 0:
                raise RuntimeError(f"no Content-Length from {target.name}: {status_line!r}")
            payload = await reader.readexactly(length)
            elapsed = time.perf_counter() - start
            if not status_line.startswith(b"HTTP/1.1 200"):
                errors.append(f"{status_line.decode().strip()} {payload[:200]!r}")
            else:
                latencies.append(elapsed)
    finally:
        writer.close()


async def load(target: Target, concurrency: int, requests: int, offset: int, max_s: float) -> Result:
    """Send ``requests`` requests over ``concurrency`` connections; latency of each, wall time of all."""
    counter = iter(range(offset, offset + requests))  # shared: a connection takes the next request
    latencies: list[float] = []
    errors: list[str] = []
    start = time.perf_counter()
    await asyncio.gather(
        *(
            _connection(target, counter, latencies, errors, time.monotonic() + max_s)
            for _ in range(concurrency)
        )
    )
    wall = time.perf_counter() - start
    if errors:
        print(f"  ! {target.name} c={concurrency}: {len(errors)} errors, first: {errors[0]}")
    ms = sorted(x * 1000 for x in latencies) or [float("nan")]
    p99 = ms[min(len(ms) - 1, round(0.99 * len(ms)) - 1)]
    return Result(target.name, concurrency, requests, len(errors), wall, statistics.median(ms), p99)


def _wrk_script(target: Target, folder: Path) -> Path:
    """A wrk Lua script that POSTs the target's bodies in turn (one per request)."""
    level = "=" * 4
    if any(f"]{level}]".encode() in b for b in target.bodies):
        raise ValueError("a body contains the Lua long-bracket terminator")
    items = ",\n".join(f"[{level}[{b.decode()}]{level}]" for b in target.bodies)
    script = folder / f"wrk-{target.name}.lua"
    script.write_text(
        f"local bodies = {{\n{items}\n}}\nlocal i = 0\n"
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        "request = function()\n  i = i % #bodies + 1\n"
        f'  return wrk.format(nil, "{target.path}", nil, bodies[i])\nend\n',
        encoding="utf-8",
    )
    return script


def _wrk_ms(value: str) -> float:
    """A wrk duration ("850.00us", "12.31ms", "1.02s") in milliseconds."""
    for unit, scale in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if value.endswith(unit):
            return float(value[: -len(unit)]) * scale
    raise ValueError(f"unknown wrk duration {value!r}")


def wrk_load(target: Target, concurrency: int, seconds: float, script: Path, pin: str | None) -> Result:
    """Run wrk (one thread, ``concurrency`` connections) for ``seconds``; parse its latency report."""
    cmd = ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds:g}s", "--latency", "-s", str(script),
           f"http://{HOST}:{target.port}"]  # fmt: skip
    if pin is not None:
        cmd = ["taskset", "-c", pin, *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    pct, done, errors = {}, 0, 0
    for line in out.splitlines():
        words = line.split()
        if len(words) == 2 and words[0] in ("50%", "99%"):
            pct[words[0]] = _wrk_ms(words[1])
        elif "requests in" in line:
            done = int(words[0])
        elif line.strip().startswith(("Non-2xx", "Socket errors")):
            errors += sum(int(w.rstrip(",")) for w in words if w.rstrip(",").isdigit())
    if "99%" not in pct:
        raise RuntimeError(f"could not read wrk's report:\n{out}")
    return Result(target.name, concurrency, done, errors, seconds, pct["50%"], pct["99%"])


# --- the run ----------------------------------------------------------------------------------------
def tweets(limit: int = 5000) -> list[str]:
    """Real tweets from the shipped sample (non-blank), in file order."""
    with SAMPLE.open(newline="", encoding="utf-8") as f:
        texts = [row["text"] for row in csv.DictReader(f) if row["text"].strip()]
    return texts[:limit]


def train(env: dict[str, str], log: Path) -> None:
    """Train the tfidf_lr champion of the demo config into the temporary store."""
    cmd = [
        str(VENV_BIN / "nlpops"), "train", str(ROOT / "configs" / "demo.yaml"),
        "--models", "tfidf_lr", "--set", "preprocessing.compare=[]",
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.run(cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"training failed ({proc.returncode}):\n{tail(log)}")


def check_feedback(port: int) -> str:
    """Predict then post feedback on the returned id: the service must answer 201."""
    with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=10.0) as client:
        pred = client.post("/v1/predict", json={"text": "worst flight ever"}).raise_for_status().json()
        pid = pred["predictions"][0]["prediction_id"]
        fb = client.post("/v1/feedback", json={"prediction_id": pid, "correct": True})
    return f"feedback on a fresh prediction: {fb.status_code} ({'ok' if fb.status_code == 201 else 'FAILED'})"


def report(results: list[Result], args: argparse.Namespace) -> list[str]:
    """The table (ours and MLflow side by side) and the verdict on the goals, as printable lines."""
    by = {(r.server, r.concurrency): r for r in results}
    lines = [
        "| concurrency | ours p50 ms | ours p99 ms | ours req/s | MLflow p50 ms | MLflow p99 ms "
        "| MLflow req/s | req/s ours/MLflow | p99 ours/MLflow |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for c in args.concurrency:
        ours, mlf = by.get(("ours", c)), by.get(("mlflow", c))
        cells = [str(c)]
        for r in (ours, mlf):
            cells += [f"{r.p50_ms:.1f}", f"{r.p99_ms:.1f}", f"{r.rps:.0f}"] if r else ["-", "-", "-"]
        if ours and mlf:
            cells += [f"{ours.rps / mlf.rps:.2f}x", f"{ours.p99_ms / mlf.p99_ms:.2f}x"]
        else:
            cells += ["-", "-"]
        lines.append("| " + " | ".join(cells) + " |")
    errs = sum(r.errors for r in results)
    lines.append("")
    lines.append(f"errors: {errs}")
    ours32, mlf32 = by.get(("ours", P99_GOAL_CONCURRENCY)), by.get(("mlflow", P99_GOAL_CONCURRENCY))
    if ours32:
        met = "met" if ours32.p99_ms <= P99_GOAL_MS else "NOT met"
        lines.append(
            f"goal p99 <= {P99_GOAL_MS:.0f} ms at {P99_GOAL_CONCURRENCY}: {ours32.p99_ms:.1f} ms -> {met}"
        )
    if ours32 and mlf32:
        ratio = ours32.rps / mlf32.rps
        met = "met" if ratio >= THROUGHPUT_GOAL else "NOT met"
        lines.append(
            f"goal >= {THROUGHPUT_GOAL:.0f}x MLflow req/s at {P99_GOAL_CONCURRENCY}: {ratio:.2f}x -> {met}"
        )
    return lines


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--requests", type=int, default=2000, help="measured requests per server and concurrency"
    )
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured requests before each measure")
    parser.add_argument("--concurrency", default="1,8,32,64", help="comma-separated connection counts")
    parser.add_argument("--pin", action="store_true", help="servers on core 0, load generator on core 1")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="give up a measure after this long")
    parser.add_argument("--servers", default="ours,mlflow", help="which servers to measure")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, stores)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers per server")
    parser.add_argument(
        "--client", choices=("python", "wrk"), default="python",
        help="load generator: the asyncio client here, or Debian's wrk (timed by --warmup-s, --duration)",
    )  # fmt: skip
    parser.add_argument("--duration", type=float, default=15.0, help="seconds measured per run (wrk)")
    parser.add_argument("--warmup-s", type=float, default=4.0, help="seconds of warm-up per run (wrk)")
    args = parser.parse_args()
    if args.client == "wrk" and not shutil.which("wrk"):
        parser.error("--client wrk needs wrk on PATH (apt-get install wrk)")
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    args.servers = args.servers.split(",")
    if min(args.concurrency) < 1 or args.requests < 1 or args.requests > 100_000:
        parser.error("concurrency must be >= 1 and requests in 1..100000")
    if args.pin and (not shutil.which("taskset") or (os.cpu_count() or 1) < 2):
        parser.error("--pin needs taskset and at least 2 cores")
    return args


def main() -> int:
    args = parse_args()

    def _terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # same cleanup path as Ctrl-C

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored
    tmp = Path(tempfile.mkdtemp(prefix="nlpops-bench-serve-"))
    env = {
        **os.environ,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # mlflow execs `uvicorn`
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp / 'mlruns.db'}",
        "NLPOPS_ARTIFACT_ROOT": str(tmp / "artifacts"),
        "NLPOPS_MODEL_CACHE_DIR": str(tmp / "cache"),
        "NLPOPS_DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
        "NLPOPS_RELOAD_INTERVAL_S": "0",
        "HF_HUB_OFFLINE": "1",
    }
    server_pin = "0" if args.pin else None
    try:
        started = time.perf_counter()
        print(f"training tfidf_lr on {SAMPLE.relative_to(ROOT)} into {tmp} ...", flush=True)
        train(env, tmp / "train.log")
        print(f"  trained in {time.perf_counter() - started:.1f} s", flush=True)
        ours_port, mlf_port = free_port(), free_port()
        ours_cmd = [str(VENV_BIN / "nlpops"), "serve", "--model", "models:/demo@champion",
                    "--host", HOST, "--port", str(ours_port), "--workers", str(args.workers)]  # fmt: skip
        mlf_cmd = [str(VENV_BIN / "mlflow"), "models", "serve", "-m", "models:/demo@champion",
                   "--env-manager", "local", "-p", str(mlf_port), "--host", HOST,
                   "--workers", str(args.workers)]  # fmt: skip
        with (
            server(ours_cmd, env, tmp / "ours.log", server_pin) as ours,
            server(mlf_cmd, env, tmp / "mlflow.log", server_pin) as mlf,
        ):
            wait_http(ours, f"http://{HOST}:{ours_port}/ready", tmp / "ours.log", 120)
            wait_http(mlf, f"http://{HOST}:{mlf_port}/ping", tmp / "mlflow.log", 120)
            print(f"both servers up after {time.perf_counter() - started:.1f} s", flush=True)
            if args.pin and args.client == "python":
                os.sched_setaffinity(0, {1})
            texts = tweets()
            targets = {
                "ours": Target(
                    "ours", ours_port, "/v1/predict", [json.dumps({"text": t}).encode() for t in texts]
                ),
                "mlflow": Target(
                    "mlflow",
                    mlf_port,
                    "/invocations",
                    [
                        json.dumps({"dataframe_split": {"columns": ["text"], "data": [[t]]}}).encode()
                        for t in texts
                    ],
                ),
            }
            measure = (
                f"{args.warmup_s:g} s warm-up + {args.duration:g} s measured with wrk"
                if args.client == "wrk"
                else f"{args.warmup} warm-up + {args.requests} measured requests"
            )
            pinning = "servers core 0, client core 1" if args.pin else "none"
            print(f"{len(texts)} tweets cycling; {measure} per server and concurrency; pinning: {pinning}")
            if not args.pin:
                print("  note: the load generator shares the cores with the server (--pin splits them)")
            results: list[Result] = []
            offset = 0
            scripts = {n: _wrk_script(t, tmp) for n, t in targets.items()} if args.client == "wrk" else {}
            client_pin = "1" if args.pin else None
            for c in args.concurrency:
                for name in args.servers:
                    target = targets[name]
                    if args.client == "wrk":
                        wrk_load(target, c, args.warmup_s, scripts[name], client_pin)
                        res = wrk_load(target, c, args.duration, scripts[name], client_pin)
                    else:
                        asyncio.run(load(target, c, args.warmup, offset, args.max_seconds))
                        res = asyncio.run(
                            load(target, c, args.requests, offset + args.warmup, args.max_seconds)
                        )
                        offset += args.warmup + args.requests
                    results.append(res)
                    print(
                        f"  {name:<7} c={c:<3} p50 {res.p50_ms:7.1f} ms  p99 {res.p99_ms:7.1f} ms  "
                        f"{res.rps:7.0f} req/s  ({res.errors} errors, {res.wall_s:.1f} s)",
                        flush=True,
                    )
            if "ours" in args.servers:
                print(check_feedback(ours_port))
        print()
        print(
            f"# {dt.date.today()} · {os.cpu_count()} cores · python {sys.version.split()[0]} · "
            f"{args.workers} uvicorn worker(s) each · client {args.client} · "
            f"{'pinned: servers core 0, client core 1' if args.pin else 'not pinned'}"
        )
        print("\n".join(report(results, args)))
        return 0 if all(r.errors == 0 for r in results) else 1
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
