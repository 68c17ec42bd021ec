"""The Dockerfile and docker-compose.yml, checked without Docker: they parse, and everything they
name (files, the entry point, settings, ports, paths) exists in this repository."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import yaml

from bot.app import STOP_GRACE_SECONDS
from bot.cli import cli
from bot.config import OpsSettings, SlackSettings, load_settings
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


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def substituted(value: str) -> str:
    """${NAME:-default} and ${NAME:?message} as Compose would fill them with NAME unset."""
    value = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)
    return re.sub(r"\$\{[A-Z_]+:\?[^}]*\}", "secret", value)


def test_the_image_is_slim_runs_as_a_user_and_starts_cycles_run() -> None:
    assert instruction("FROM") == ["python:3.11-slim"]
    users = instruction("USER")
    assert users and users[-1] not in ("root", "0")
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert instruction("ENTRYPOINT") == ['["cycles"]']
    assert scripts["cycles"] == "bot.cli:main"
    assert instruction("CMD") == ['["run"]']
    names = {c.name or (c.callback.__name__ if c.callback else "") for c in cli.registered_commands}
    assert "run" in names
    assert instruction("STOPSIGNAL") == ["SIGTERM"]


def test_everything_the_image_copies_exists() -> None:
    for args in instruction("COPY"):
        *sources, _target = shlex.split(args)
        for source in sources:
            assert (ROOT / source).exists(), source


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
    assert exposed == {SlackSettings().http_port, OpsSettings().port}
    (check,) = instruction("HEALTHCHECK")
    assert f"http://127.0.0.1:{OpsSettings().port}{HEALTH_PATH}" in check


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
    assert url.startswith("postgresql+psycopg://cycles:")
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
