"""The Dockerfile, docker-compose.yml, .dockerignore and .env.example, checked without Docker:
they parse, and everything they name (files, the entry point, settings, ports, paths, variables)
exists in this repository and matches the code."""

from __future__ import annotations

import fnmatch
import http.server
import re
import shlex
import socket
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.app import STOP_GRACE_SECONDS
from bot.cli import cli
from bot.config import ENV_KEYS, OpsSettings, SlackSettings, TeamsSettings, load_settings
from bot.ops import HEALTH_PATH

ROOT = Path(__file__).resolve().parent.parent


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    joined = re.sub(r"\\\n\s*", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def instruction(name: str) -> list[str]:
    return [rest for word, rest in dockerfile() if word == name]


def stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile's instructions, one list per build stage."""
    out: list[list[tuple[str, str]]] = []
    for word, rest in dockerfile():
        if word == "FROM":
            out.append([])
        if out:
            out[-1].append((word, rest))
    return out


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def substituted(value: str) -> str:
    """${NAME:-default} and ${NAME:?message} as Compose would fill them with NAME unset."""
    value = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)
    return re.sub(r"\$\{[A-Z_]+:\?[^}]*\}", "secret", value)


def test_the_image_is_slim_pinned_runs_as_a_user_under_tini_and_starts_cycles_run() -> None:
    bases = [rest.split()[0] for rest in instruction("FROM")]
    assert len(bases) == 2  # a build stage, and the image that runs
    for base in bases:
        # A patch release of a slim image, not a moving tag.
        assert re.fullmatch(r"python:3\.11\.\d+-slim-[a-z]+", base), base
    users = instruction("USER")
    assert users and users[-1] not in ("root", "0")
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    # tini is PID 1: it forwards SIGTERM to the bot and reaps what it leaves.
    assert instruction("ENTRYPOINT") == ['["tini", "--", "cycles"]']
    assert any("install" in run and " tini" in run for run in instruction("RUN"))
    assert scripts["cycles"] == "bot.cli:main"
    assert instruction("CMD") == ['["run"]']
    names = {c.name or (c.callback.__name__ if c.callback else "") for c in cli.registered_commands}
    assert "run" in names
    assert instruction("STOPSIGNAL") == ["SIGTERM"]


def test_dependencies_come_from_the_lock_in_a_layer_before_the_source() -> None:
    build = stages()[0]
    copies = [(i, shlex.split(rest)) for i, (word, rest) in enumerate(build) if word == "COPY"]
    runs = [(i, rest) for i, (word, rest) in enumerate(build) if word == "RUN"]
    (lock_copy,) = [i for i, args in copies if "requirements/run.txt" in args]
    (install,) = [i for i, rest in runs if "-r /tmp/requirements/run.txt" in rest]
    assert "--require-hashes" in build[install][1]
    source_copies = [i for i, args in copies if {"bot", "integrations"} & set(args)]
    # Only the lock before the install: a code change leaves that layer cached.
    assert lock_copy < install < min(source_copies)
    assert all(
        set(args[:-1]) <= {"requirements/run.txt", "requirements/build.txt"}
        for i, args in copies
        if i < install
    )
    # The project itself without dependencies, so nothing outside the lock gets in.
    assert any("--no-deps" in rest and i > max(source_copies) for i, rest in runs)
    final = stages()[-1]
    assert not any("pip install" in rest and "-r" in rest for word, rest in final if word == "RUN")
    assert any(word == "COPY" and rest.startswith("--from=") for word, rest in final)


def test_everything_the_image_copies_exists() -> None:
    for args in instruction("COPY"):
        if args.startswith("--from="):
            continue
        *sources, _target = shlex.split(args)
        for source in sources:
            assert (ROOT / source).exists(), source
            # ... and .dockerignore does not keep it out of the build context.
            assert not ignored(source), source


def dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def ignored(path: str) -> bool:
    """Whether .dockerignore leaves `path` out (its last matching pattern decides)."""
    out = False
    for pattern in dockerignore():
        negate = pattern.startswith("!")
        pattern = pattern.removeprefix("!")
        if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, pattern.removeprefix("**/")):
            out = not negate
    return out


def test_the_build_context_leaves_out_secrets_and_local_state() -> None:
    for path in (".env", ".git", ".venv", "data", "cycles.sqlite3", ".env.production"):
        assert ignored(path), path
    assert not ignored(".env.example")


def test_its_settings_and_ports_are_the_bots() -> None:
    env: dict[str, str] = {}
    for args in instruction("ENV"):
        for pair in shlex.split(args):
            key, _, value = pair.partition("=")
            env[key] = value
    cycles = {k: v for k, v in env.items() if k.startswith("CYCLES_")}
    assert cycles
    settings = load_settings(path=None, env=cycles)  # every name is a real setting
    assert str(settings.bot.data_dir) == "/data"
    assert instruction("VOLUME") == ['["/data"]']
    exposed = {int(port) for args in instruction("EXPOSE") for port in args.split()}
    assert exposed == {SlackSettings().http_port, TeamsSettings().http_port, OpsSettings().port}
    (check,) = instruction("HEALTHCHECK")
    assert f"${{CYCLES_OPS__PORT:-{OpsSettings().port}}}{HEALTH_PATH}" in check
    # The variable is the one the bot reads its ops port from.
    assert load_settings(path=None, env={"CYCLES_OPS__PORT": "9191"}).ops.port == 9191


class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == HEALTH_PATH else 404)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[int]:
    server = http.server.HTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def healthcheck(env: dict[str, str]) -> int:
    """Run the image's HEALTHCHECK command as Docker does (a shell), with this Python."""
    (check,) = instruction("HEALTHCHECK")
    command = check.partition("CMD ")[2].replace("python ", f"{sys.executable} ", 1)
    return subprocess.run(
        ["sh", "-c", command], env=env, capture_output=True, timeout=30
    ).returncode


def test_the_healthcheck_follows_the_configured_ops_port(health_server: int) -> None:
    assert healthcheck({"CYCLES_OPS__PORT": str(health_server)}) == 0
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        nobody = free.getsockname()[1]
    assert healthcheck({"CYCLES_OPS__PORT": str(nobody)}) == 1


def env_example() -> dict[str, str]:
    """NAME -> value for every `NAME=value` or commented `# NAME=value` line."""
    out: dict[str, str] = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.fullmatch(r"#? ?([A-Z][A-Z0-9_]*)=(.*)", line.strip())
        if match:
            out[match[1]] = match[2]
    return out


def variables_the_code_reads() -> set[str]:
    """The documented names, and any other name the settings loader looks up itself."""
    source = (ROOT / "bot" / "config.py").read_text()
    return set(ENV_KEYS) | set(re.findall(r"env\.get\(\s*\"([A-Z][A-Z0-9_]*)\"", source))


def test_env_example_lists_every_variable_the_code_reads() -> None:
    listed = env_example()
    assert "CYCLES_CONFIG" in variables_the_code_reads()
    missing = variables_the_code_reads() - set(listed)
    assert not missing, f"not in .env.example: {sorted(missing)}"
    # Its example values are valid settings, and nothing in it is a secret's value.
    values = {k: v for k, v in listed.items() if k != "CYCLES_CONFIG" and v}
    load_settings(path=None, env=values)
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_TOKEN"):
        assert listed[name] == "", name
    compose_vars = set(re.findall(r"\$\{([A-Z_]+)", (ROOT / "docker-compose.yml").read_text()))
    assert compose_vars <= set(listed), sorted(compose_vars - set(listed))


def test_compose_runs_the_bot_image_against_its_postgres() -> None:
    services = compose()["services"]
    assert set(services) == {"bot", "postgres"}
    bot, postgres = services["bot"], services["postgres"]
    assert bot["build"] == "."
    assert (ROOT / "Dockerfile").exists()
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert postgres["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])

    env = {k: substituted(str(v)) for k, v in bot["environment"].items()}
    settings = load_settings(path=None, env=env)
    url = settings.bot.resolved_database_url()
    assert url.startswith("postgresql+asyncpg://cycles:")
    assert url.endswith("@postgres:5432/cycles")  # the service's name and database
    assert postgres["environment"]["POSTGRES_DB"] == "cycles"
    assert postgres["environment"]["POSTGRES_USER"] == "cycles"
    # Secrets come from the environment, never written into the file.
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_TOKEN", "OPENAI_API_KEY"):
        assert str(bot["environment"][name]).startswith("${"), name
    assert str(postgres["environment"]["POSTGRES_PASSWORD"]).startswith("${")


def test_compose_mounts_exist_and_ports_match() -> None:
    spec = compose()
    bot = spec["services"]["bot"]
    for volume in bot["volumes"]:
        source = volume.split(":")[0]
        if source.startswith("."):
            assert (ROOT / source).exists(), source
        else:
            assert source in spec["volumes"], source
    assert {v.split(":")[1] for v in bot["volumes"]} >= {"/app/bot.toml", "/data"}
    ports = {int(str(p).split(":")[-1]) for p in bot["ports"]}
    assert ports == {SlackSettings().http_port, OpsSettings().port}
    # Docker must wait for the graceful stop before it kills the container.
    grace = int(str(bot["stop_grace_period"]).removesuffix("s"))
    assert grace > STOP_GRACE_SECONDS
