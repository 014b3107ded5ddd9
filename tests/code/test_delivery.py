"""The delivery files, checked by reading them (this machine has no Docker engine).

docker-compose.yml, the Dockerfile, deploy/prometheus.yml and the GitHub workflow must agree with the
code: every command a container runs exists (``nlpops`` sub-commands in the typer app, ``mlflow server``
in MLflow's click group) and accepts its options, every ``NLPOPS_*`` variable is a field of
:class:`nlpops.settings.Settings`, and each published port is the one the command listens on.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import typer
import yaml

from nlpops.cli import app
from nlpops.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
PROMETHEUS = ROOT / "deploy" / "prometheus.yml"
INTERPOLATION = re.compile(r"\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}")


def interpolate(value: str) -> str:
    """Compose's ``${VAR:-default}`` replaced by its default (``${VAR:?msg}``, which the operator must
    set, by a value as long as a real key)."""
    return INTERPOLATION.sub(lambda m: _default(m.group(0), m.group(1)), value)


def _default(whole: str, name: str) -> str:
    match = re.fullmatch(r"\$\{[A-Z0-9_]+:?-(.*)\}", whole)
    return match.group(1) if match else f"{name}-as-set-by-the-operator"


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict) and data["services"], "docker-compose.yml has no services"
    return data


def command_of(service: dict[str, Any]) -> list[str]:
    command = service.get("command", [])
    parts = shlex.split(command) if isinstance(command, str) else [str(c) for c in command]
    return [interpolate(part) for part in parts]


def resolve(group: click.Command, args: list[str]) -> tuple[click.Command, list[str]]:
    """Walk sub-commands of ``group`` along ``args``; the leaf command and the arguments left."""
    command = group
    while isinstance(command, click.Group) and args and not args[0].startswith("-"):
        sub = command.commands.get(args[0])
        assert sub is not None, f"no sub-command {args[0]!r} in {command.name}: {sorted(command.commands)}"
        command, args = sub, args[1:]
    return command, args


def parse(group: click.Command, args: list[str]) -> dict[str, Any]:
    """The parameters click parses from ``args`` (unknown options and bad values fail the test)."""
    command, rest = resolve(group, args)
    try:
        context = command.make_context(command.name or "cmd", list(rest))
    except click.ClickException as err:
        pytest.fail(f"{' '.join(args)}: {err.format_message()}")
    return dict(context.params)


def nlpops_click() -> click.Command:
    return typer.main.get_command(app)


def mlflow_click() -> click.Command:
    from mlflow.cli import cli

    return cli


SERVICES_BUILT = ("api", "mlflow", "train")


def test_compose_has_the_stack() -> None:
    services = compose()["services"]
    assert {"postgres", "mlflow", "api", "prometheus"} <= set(services)
    for name in SERVICES_BUILT:
        assert services[name].get("build"), f"{name} should be built from the Dockerfile"
    assert "pgdata" in compose()["volumes"] and "mlartifacts" in compose()["volumes"]
    assert any(v.startswith("mlartifacts:") for v in services["mlflow"]["volumes"])


@pytest.mark.parametrize("name", ["api", "train"])
def test_nlpops_commands_exist(name: str) -> None:
    args = command_of(compose()["services"][name])
    assert args[0] == "nlpops", f"{name}: {args}"
    parse(nlpops_click(), args[1:])


def test_mlflow_server_command_and_postgres_backend() -> None:
    services = compose()["services"]
    args = command_of(services["mlflow"])
    assert args[:2] == ["mlflow", "server"]
    params = parse(mlflow_click(), args[1:])
    assert params["backend_store_uri"].startswith("postgresql+psycopg://")
    assert params["backend_store_uri"].rsplit("/", 1)[1] == "mlflow"
    assert params["serve_artifacts"] and params["artifacts_destination"] == "/mlartifacts"
    assert "mlflow" in params["allowed_hosts"].split(","), "the API reaches MLflow as host 'mlflow'"
    init = (ROOT / "deploy" / "postgres-init.sql").read_text()
    assert "CREATE DATABASE mlflow" in init
    assert any("postgres-init.sql:/docker-entrypoint-initdb.d/" in v for v in services["postgres"]["volumes"])


def container_ports(service: dict[str, Any]) -> list[int]:
    return [int(str(p).split(":")[-1].split("/")[0]) for p in service.get("ports", [])]


def listening_port(args: list[str]) -> int:
    """The port a container's command listens on (``--port N`` or prometheus' ``--web.listen-address``)."""
    for i, arg in enumerate(args):
        if arg == "--port":
            return int(args[i + 1])
        if arg.startswith("--web.listen-address="):
            return int(arg.rsplit(":", 1)[1])
    raise AssertionError(f"no --port in {args}")


@pytest.mark.parametrize("name", ["api", "mlflow", "prometheus"])
def test_published_ports_match_the_commands(name: str) -> None:
    service = compose()["services"][name]
    assert container_ports(service) == [listening_port(command_of(service))]


def test_prometheus_scrapes_the_api_metrics() -> None:
    services = compose()["services"]
    config = yaml.safe_load(PROMETHEUS.read_text())
    (job,) = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    api_port = listening_port(command_of(services["api"]))
    assert job["static_configs"][0]["targets"] == [f"api:{api_port}"]
    assert any(PROMETHEUS.name in v for v in services["prometheus"]["volumes"])
    assert "/metrics" in _app_paths() and "/ready" in _app_paths()


def _app_paths() -> set[str]:
    from nlpops.serve.app import create_app

    return set(create_app(Settings(_env_file=None)).openapi()["paths"])


def env_names() -> set[str]:
    """Every ``NLPOPS_*`` name set in the compose file or the Dockerfile."""
    names: set[str] = set()
    for service in compose()["services"].values():
        env = service.get("environment", {})
        names |= set(env if isinstance(env, dict) else (e.split("=", 1)[0] for e in env))
    names |= set(re.findall(r"\b(NLPOPS_[A-Z0-9_]+)=", DOCKERFILE.read_text()))
    return {n for n in names if n.startswith("NLPOPS_")}


def test_env_names_are_settings() -> None:
    names = env_names()
    assert {"NLPOPS_DATABASE_URL", "NLPOPS_MODEL_URI", "NLPOPS_API_KEY"} <= names
    fields = {f"NLPOPS_{name.upper()}" for name in Settings.model_fields}
    assert names <= fields, f"not settings: {sorted(names - fields)}"
    # and the values parse: a wrong type here would stop the container at startup
    api_env = {k: interpolate(str(v)) for k, v in compose()["services"]["api"]["environment"].items()}
    values = {k[len("NLPOPS_") :].lower(): v for k, v in api_env.items() if k.startswith("NLPOPS_")}
    settings = Settings(_env_file=None, **values)
    assert (
        settings.database_url.startswith("postgresql+psycopg://")
        and "@postgres:5432/" in settings.database_url
    )


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_dockerfile() -> None:
    instructions = dockerfile_instructions()
    stages = [args for op, args in instructions if op == "FROM"]
    assert len(stages) >= 2, "multi-stage build expected"
    runs = " ".join(args for op, args in instructions if op == "RUN")
    assert "download.pytorch.org/whl/cpu" in runs and "torch==2.13.0" in runs
    assert "-c constraints.txt" in runs
    assert "torch==2.13.0" in (ROOT / "constraints.txt").read_text()
    final = instructions[max(i for i, (op, _) in enumerate(instructions) if op == "FROM") :]
    users = [args for op, args in final if op == "USER"]
    assert users and users[-1] not in ("root", "0"), "the final stage must run as a non-root user"
    (health,) = [args for op, args in final if op == "HEALTHCHECK"]
    assert "/ready" in health
    cmd = next(args for op, args in reversed(final) if op == "CMD")
    args = yaml.safe_load(cmd)  # the exec form is a JSON (so YAML) list
    assert args[:2] == ["nlpops", "serve"]
    parse(nlpops_click(), args[1:])
    port = listening_port(args)
    assert f":{port}/ready" in health and ("EXPOSE", str(port)) in final
    copied = " ".join(args for op, args in instructions if op == "COPY")
    for needed in ("pyproject.toml", "constraints.txt", "src"):
        assert needed in copied


def test_dockerignore_keeps_what_the_build_copies() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ".venv" in ignored and ".git" in ignored and "mlruns.db" in ignored
    for kept in ("src", "pyproject.toml", "constraints.txt", "README.md", "configs"):
        assert kept not in ignored
    assert "!data/sample" in ignored


def test_workflow_jobs() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    jobs = workflow["jobs"]
    assert {"lint", "test", "image", "deploy"} <= set(jobs)
    assert set(jobs["image"]["needs"]) == {"lint", "test"} and jobs["deploy"]["needs"] == ["image"]
    runs = {name: " ".join(s.get("run", "") for s in job.get("steps", [])) for name, job in jobs.items()}
    assert "make lint" in runs["lint"] and ".ci/run" in runs["test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    uses = [s.get("uses", "") for s in jobs["image"]["steps"]]
    assert any(u.startswith("docker/build-push-action") for u in uses)
    deploy = WORKFLOW.read_text().split("\n  deploy:", 1)[1]
    for secret in ("DEPLOY_HOST", "DEPLOY_USER", "DEPLOY_SSH_KEY", "DEPLOY_PATH"):
        assert f"secrets.{secret}" in deploy
    assert "/ready" in deploy


DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


@pytest.mark.parametrize("page", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_doc_links_resolve_and_settings_exist(page: Path) -> None:
    text_ = page.read_text()
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text_):
        if "://" not in target:
            assert (page.parent / target).exists(), f"{page.name}: broken link {target}"
    fields = {f"NLPOPS_{name.upper()}" for name in Settings.model_fields}
    named = set(re.findall(r"\bNLPOPS_[A-Z0-9_]*[A-Z0-9]\b", text_))
    prefixes = {n for n in named if n.endswith(("_ALERT", "_SPIKE"))}  # "NLPOPS_SPIKE_*" families
    assert named - prefixes <= fields | {"NLPOPS_TEST_PG_URL"}, f"{page.name}: not settings: {named - fields}"


def test_readme_commands_name_files_that_exist() -> None:
    """The paths in the README's commands: the repository's (configs/, data/) and the data folder's
    (``"$NLPOPS_DATA_DIR"/…``, ``../shared/data/…``, shell patterns included)."""
    from nlpops.data import data_dir

    commands = "\n".join(re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text("utf-8"), re.S))
    in_data = re.findall(r'(?:"\$NLPOPS_DATA_DIR"|\.\./shared/data)/([\w.*-]+)', commands)
    in_repo = re.findall(r"(?<![\w./-])((?:configs|data)/[\w.*/-]+)", commands)
    assert in_data and in_repo
    missing = [path for path in in_repo if not list(ROOT.glob(path))]
    if data_dir().is_dir():
        missing += [f"data folder: {name}" for name in in_data if not list(data_dir().glob(name))]
    assert missing == [], f"README.md commands name files that do not exist: {missing}"
