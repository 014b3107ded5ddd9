"""Every CLI command that reads a file, given a bad one: exit != 0, one clear line, nothing half-written.

Bad inputs: a missing path, a directory, an empty file, a file in the wrong format (binary, or
readable text of the wrong kind). Each command runs
in-process (typer's CliRunner); stderr must hold exactly one line, ``error: …`` naming the problem,
and no traceback; the ``--out`` folder, when the command has one, must hold no file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from nlpops.cli import app
from nlpops.data import data_dir

runner = CliRunner()
BAD_INPUTS = ("missing", "directory", "empty", "binary", "wrong_text")
WRONG_TEXT = {  # readable text, but not what the command expects
    ".csv": '{"comment": "JSON, not a table with the expected columns"}\n',
    ".yaml": "text,label\nI love it,positive\n",  # a CSV given as the config
    ".pkl": "not a pickle\n",
}


def bad_path(kind: str, root: Path, suffix: str) -> Path:
    """A path of the given kind of badness, with ``suffix`` (the extension the command expects)."""
    path = root / f"input-{kind}{suffix}"
    if kind == "directory":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "binary":
        path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01binary, not text\xff\xfe")
    elif kind == "wrong_text":
        path.write_text(WRONG_TEXT[suffix])
    return path


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from nlpops.models.registry import build_model

    texts = ["i love it", "great flight", "so happy", "i hate it", "awful flight", "so sad"]
    labels = ["positive"] * 3 + ["negative"] * 3
    return build_model("tfidf_nb").fit(texts, labels).save(tmp_path_factory.mktemp("m") / "model")


@pytest.fixture(scope="module")
def posts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("posts") / "posts.csv"
    frame = pd.DataFrame({"text": ["i love it", "i hate it"], "created_at": ["2024-01-01", "2024-01-02"]})
    frame.assign(label=["positive", "negative"]).to_csv(path, index=False)
    return path


# name -> (suffix of the bad file, args built from (bad path, out folder, model folder, good posts file))
Args = Callable[[Path, Path, Path, Path], list[str]]
COMMANDS: dict[str, tuple[str, Args]] = {
    "data validate": (".csv", lambda bad, out, m, p: ["data", "validate", str(bad)]),
    "data split": (".csv", lambda bad, out, m, p: ["data", "split", str(bad), "--out", str(out)]),
    "train": (".yaml", lambda bad, out, m, p: ["train", str(bad)]),
    "tune": (".yaml", lambda bad, out, m, p: ["tune", str(bad), "--model", "tfidf_lr", "--trials", "1"]),
    "evaluate --data": (
        ".csv",
        lambda bad, out, m, p: ["evaluate", "--model", str(m), "--data", str(bad), "--out", str(out)],
    ),
    "evaluate --model": (".pkl", lambda bad, out, m, p: ["evaluate", "--model", str(bad), "--data", str(p)]),
    "predict --model": (".pkl", lambda bad, out, m, p: ["predict", "--model", str(bad), "i love it"]),
    "predict --file": (".csv", lambda bad, out, m, p: ["predict", "--model", str(m), "--file", str(bad)]),
    "export-onnx --data": (
        ".csv",
        lambda bad, out, m, p: ["export-onnx", "--model", str(m), "--data", str(bad), "--out", str(out)],
    ),
    "export-onnx --model": (
        ".pkl",
        lambda bad, out, m, p: ["export-onnx", "--model", str(bad), "--data", str(p), "--out", str(out)],
    ),
    "watch": (
        ".csv",
        lambda bad, out, m, p: [
            "watch",
            str(bad),
            "--model",
            str(m),
            "--time-col",
            "created_at",
            "--out",
            str(out),
            "--no-alert",
        ],
    ),
    "watch --model": (
        ".pkl",
        lambda bad, out, m, p: [
            "watch",
            str(p),
            "--model",
            str(bad),
            "--time-col",
            "created_at",
            "--out",
            str(out),
            "--no-alert",
        ],
    ),
}


@pytest.mark.parametrize("kind", BAD_INPUTS)
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_bad_input_gives_one_clear_line(
    command: str, kind: str, tmp_path: Path, model_dir: Path, posts: Path, mlflow_store: str
) -> None:
    suffix, build = COMMANDS[command]
    bad = bad_path(kind, tmp_path, suffix)
    out = tmp_path / "out"
    result = runner.invoke(app, build(bad, out, model_dir, posts))
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code != 0, f"{command} accepted a {kind} input:\n{result.output}"
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert len(lines) == 1, f"{command} ({kind}) wrote {len(lines)} lines on stderr:\n{result.stderr}"
    assert lines[0].startswith("error: ") and "Traceback" not in result.output
    assert bad.name in lines[0] or str(bad) in lines[0], f"the error should name the input: {lines[0]}"
    leftovers = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file()) if out.exists() else []
    assert leftovers == [], f"{command} ({kind}) left files in --out: {leftovers}"


@pytest.fixture(scope="module")
def registry_env(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> dict[str, str]:
    """The environment of a tracking store where ``demo`` v1 is ``@champion`` (made once per module)."""
    import mlflow
    from mlflow import MlflowClient

    from nlpops.models.base import load_model_dir
    from nlpops.settings import get_settings
    from nlpops.tracking import log_model, setup_tracking

    root = tmp_path_factory.mktemp("store")
    env = {
        "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlruns.db'}",
        "NLPOPS_ARTIFACT_ROOT": str(root / "artifacts"),
        "NLPOPS_MODEL_CACHE_DIR": str(root / "cache"),
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        get_settings.cache_clear()
        setup_tracking("errors")
        with mlflow.start_run():
            uri = log_model(load_model_dir(model_dir), model_dir, ["i love it"])
        version = mlflow.register_model(uri, "demo").version
        MlflowClient().set_registered_model_alias("demo", "champion", version)
    get_settings.cache_clear()
    return env


@pytest.fixture
def registry(registry_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from nlpops.settings import get_settings

    for key, value in registry_env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


WRONG_URIS = {
    "models:/nope@champion": "no registered model named 'nope'",
    "models:/demo@nope": "demo has no alias @nope",
    "models:/demo/999": "demo has no version 999",
    "runs:/abc/model": "no run 'abc'",
}
# name -> args built from (model URI, out folder, good posts file)
URI_COMMANDS: dict[str, Callable[[str, Path, Path], list[str]]] = {
    "predict": lambda uri, out, p: ["predict", "--model", uri, "i love it"],
    "evaluate": lambda uri, out, p: ["evaluate", "--model", uri, "--data", str(p), "--out", str(out)],
    "watch": lambda uri, out, p: [
        "watch", str(p), "--model", uri, "--time-col", "created_at", "--out", str(out), "--no-alert"
    ],
    "export-onnx": lambda uri, out, p: ["export-onnx", "--model", uri, "--data", str(p), "--out", str(out)],
}  # fmt: skip


@pytest.mark.parametrize("uri", sorted(WRONG_URIS))
@pytest.mark.parametrize("command", sorted(URI_COMMANDS))
def test_a_wrong_model_uri_names_it_and_lists_the_registry(
    command: str, uri: str, tmp_path: Path, posts: Path, registry: None
) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, URI_COMMANDS[command](uri, out, posts))
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 1, result.output
    assert len(lines) == 1 and "Traceback" not in result.output, result.stderr
    assert lines[0].startswith(f"error: {uri}: {WRONG_URIS[uri]} (tracking store sqlite:///")
    assert lines[0].endswith("; registered: demo@champion (v1)")
    assert not out.exists() or not any(out.rglob("*"))


def test_out_that_is_a_file_is_refused(tmp_path: Path, posts: Path) -> None:
    out = tmp_path / "out.txt"
    out.write_text("keep me")
    result = runner.invoke(app, ["data", "split", str(posts), "--out", str(out)])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: {out}: exists and is not a folder; give --out a folder"
    assert out.read_text() == "keep me"


def test_split_failing_half_way_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_data: tuple[list[str], list[str]]
) -> None:
    import nlpops.data.split as split_module

    texts, labels = tiny_data
    data = tmp_path / "tiny.csv"
    pd.DataFrame({"text": texts, "label": labels}).to_csv(data, index=False)
    real_hash, calls = split_module.sha256_file, []

    def hash_then_fail(path: Path) -> str:
        calls.append(path)
        if len(calls) == 2:  # train.parquet is written, val.parquet too: now the disk "fills up"
            raise OSError(28, "No space left on device")
        return real_hash(path)

    monkeypatch.setattr(split_module, "sha256_file", hash_then_fail)
    out = tmp_path / "splits"
    result = runner.invoke(app, ["data", "split", str(data), "--out", str(out)])
    assert result.exit_code == 1 and "No space left on device" in result.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == [data]  # no staging folder left either
    monkeypatch.setattr(split_module, "sha256_file", real_hash)
    result = runner.invoke(app, ["data", "split", str(data), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "manifest.json",
        "test.parquet",
        "train.parquet",
        "val.parquet",
    ]


def test_watch_failing_half_way_keeps_the_previous_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_dir: Path, posts: Path
) -> None:
    import nlpops.watch.report as report_module

    out = tmp_path / "watch"
    out.mkdir()
    (out / "report.html").write_text("previous run")
    monkeypatch.setattr(report_module, "_html", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
    args = ["watch", str(posts), "--model", str(model_dir), "--time-col", "created_at", "--out", str(out)]
    result = runner.invoke(app, [*args, "--no-alert"])
    assert result.exit_code == 1 and result.stderr.strip() == "error: disk full"
    assert [p.name for p in out.iterdir()] == ["report.html"] and (
        out / "report.html"
    ).read_text() == "previous run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["watch"]


@pytest.mark.parametrize(
    ("command", "key"),
    [(["train", "{cfg}"], "data.path"), (["skills", "train", "{skills}"], "data.annotations")],
)
def test_a_set_value_that_is_no_yaml_is_taken_as_a_string(
    command: list[str], key: str, tmp_path: Path, posts: Path
) -> None:
    cfg = tmp_path / "run.yaml"
    cfg.write_text(
        f"name: t\nregistered_model: t\ndata: {{path: {posts}}}\nmodels: {{nb: {{kind: tfidf_nb}}}}\n"
    )
    skills = Path(__file__).resolve().parents[2] / "configs" / "skills.yaml"
    args = [arg.format(cfg=cfg, skills=skills) for arg in command]
    result = runner.invoke(app, [*args, "--set", f"{key}={{data_dir}}/nope.jsonl.gz"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr == f"error: {data_dir() / 'nope.jsonl.gz'}: no such file\n"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("alpha=abc", "configs: models.nb: Value error, model kind 'tfidf_nb': alpha='abc' is not a number"),
        ("sublinear_tf=maybe", "model kind 'tfidf_nb': sublinear_tf='maybe' is not true or false"),
        ("alpha=-1", "models.nb: TfidfNaiveBayes: The 'alpha' parameter of MultinomialNB must be"),
    ],
)
def test_a_set_value_the_model_refuses_is_one_line(
    value: str, message: str, tmp_path: Path, mlflow_store: str, tiny_data: tuple[list[str], list[str]]
) -> None:
    """A word for a number fails as the config is read; a value out of range, in fit: one line each."""
    data, cfg = tmp_path / "tiny.csv", tmp_path / "configs"
    pd.DataFrame({"text": tiny_data[0], "label": tiny_data[1]}).to_csv(data, index=False)
    cfg.write_text(
        f"name: t\nregistered_model: t\ndata: {{path: {data}}}\nmodels: {{nb: {{kind: tfidf_nb}}}}\n"
    )
    result = runner.invoke(app, ["train", str(cfg), "--set", f"models.nb.{value}"])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.stderr


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """uvicorn.run recorded instead of run: what ``serve`` would have started."""
    import uvicorn

    started: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda api, **options: started.append(options))
    return started


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_on_a_busy_port_fails_before_loading_anything(
    model_dir: Path, no_server: list[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    import nlpops.tracking

    checked: list[str] = []
    monkeypatch.setattr(nlpops.tracking, "check_model", checked.append)
    with socket.socket() as busy, socket.socket() as next_one:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with contextlib.suppress(OSError):  # (busy already otherwise)
            next_one.bind(("127.0.0.1", port + 1))  # the next port busy too: the hint must skip it
        result = runner.invoke(app, ["serve", "--model", str(model_dir), "--port", str(port)])
        assert result.exit_code == 1 and no_server == [] and checked == []
        prefix = (
            f"error: 127.0.0.1:{port} is in use (another server?); "
            "choose another port with --port, e.g. --port "
        )
        assert result.stderr.startswith(prefix)
        hint = int(result.stderr.removeprefix(prefix))
        assert hint > port + 1
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", hint))  # the port suggested is free


@pytest.mark.parametrize("uri", sorted(WRONG_URIS))
def test_serve_refuses_a_model_that_does_not_exist(uri: str, registry: None, no_server: list[dict]) -> None:
    result = runner.invoke(app, ["serve", "--model", uri, "--port", str(_free_port())])
    assert result.exit_code == 1 and no_server == []
    assert result.stderr.startswith(f"error: {uri}: {WRONG_URIS[uri]} (tracking store sqlite:///")
    assert result.stderr.endswith("; registered: demo@champion (v1)\n") and "Traceback" not in result.output


def test_serve_refuses_a_folder_that_is_no_model(tmp_path: Path, no_server: list[dict]) -> None:
    result = runner.invoke(app, ["serve", "--model", str(tmp_path), "--port", str(_free_port())])
    assert result.exit_code == 1 and no_server == []
    assert result.stderr.startswith(f"error: {tmp_path}: not a model folder")


def test_serve_says_where_to_open_it(registry: None, no_server: list[dict], tmp_path: Path) -> None:
    port = _free_port()
    db = f"sqlite:///{tmp_path / 'serve.db'}"
    result = runner.invoke(
        app, ["serve", "--model", "models:/demo@champion", "--port", str(port), "--database-url", db]
    )
    assert result.exit_code == 0, result.output
    assert [options["port"] for options in no_server] == [port]
    assert result.stdout.splitlines()[:2] == [
        f"serving models:/demo@champion on http://127.0.0.1:{port} with 1 worker(s)",
        f"open http://127.0.0.1:{port}/ (classify), /dashboard, /docs",
    ]


def test_serve_starts_when_the_store_does_not_answer(
    no_server: list[dict], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import time

    from nlpops.settings import get_settings

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{_free_port()}")  # nobody there
    get_settings.cache_clear()
    started = time.perf_counter()
    db = f"sqlite:///{tmp_path / 'serve.db'}"
    result = runner.invoke(
        app, ["serve", "--model", "models:/demo@champion", "--port", str(_free_port()), "--database-url", db]
    )
    get_settings.cache_clear()
    assert result.exit_code == 0 and len(no_server) == 1, result.output
    assert time.perf_counter() - started < 30  # one try, not MLflow's minutes of retries
    assert result.stderr.startswith("warning: cannot check models:/demo@champion (")
    assert result.stderr.endswith("starting anyway: the server retries, or serves its cached copy\n")


@pytest.mark.parametrize("command", ["serve", "predict"])
def test_a_folder_without_the_store_says_where_it_looked(command: str, tmp_path: Path) -> None:
    """A newcomer's terminal in another folder: one line that says the store is relative to it."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("NLPOPS_", "MLFLOW_"))}
    env["NLPOPS_MODEL_CACHE_DIR"] = str(tmp_path / "cache")
    args = ["--port", str(_free_port())] if command == "serve" else ["--model", "models:/demo@champion", "hi"]
    done = subprocess.run(
        [sys.executable, "-m", "nlpops", command, *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr == (  # no MLflow INFO lines about the new store's tables above it
        "error: models:/demo@champion: no registered model named 'demo' "
        "(tracking store sqlite:///mlruns.db); "
        f"no model is registered yet in {tmp_path / 'mlruns.db'} (relative to the current folder: run where "
        "you trained); run `nlpops train configs/demo.yaml` (or `make demo`)\n"
    )
