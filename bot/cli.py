"""The `cycles` command line (also `python -m bot`).

The bot, the database and the adapters are imported inside the commands that use them, so
`--help`, `--version` and a config error answer without loading SQLAlchemy, the platform libraries
or the summariser's dependencies. Those imports go downwards only (tests/bot/test_layers.py)."""

from __future__ import annotations

import asyncio
import importlib.metadata
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.config import Settings, load_settings
from bot.errors import ConfigError
from bot.logs import setup_logging

if TYPE_CHECKING:
    from bot.app import App

cli = typer.Typer(
    help="Learning Cycles: reflection rounds, experiment check-ins and weekly sensemaking digests.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_cli = typer.Typer(help="Database migrations.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="Path to bot.toml (default: ./bot.toml).")
]
DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="SQLite file to use (kept between runs) instead of a fresh one."),
]


def _print_version(wanted: bool) -> None:
    if not wanted:
        return
    try:
        version = importlib.metadata.version("learning-cycles")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout that was never installed
        version = "unknown (not installed)"
    typer.echo(f"cycles {version}")
    raise typer.Exit()


@cli.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Learning Cycles: reflection rounds, experiment check-ins and weekly sensemaking digests."""


def _settings(config: Path | None, **overrides: str) -> Settings:
    """Load settings or exit with the one-line reason."""
    env = {**os.environ, **overrides}
    try:
        return load_settings(config, env)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


def _run(coro: object) -> None:
    try:
        asyncio.run(coro)  # type: ignore[arg-type]
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


@cli.command()
def run(
    config: ConfigOption = None,
    slack_http: Annotated[
        bool, typer.Option("--slack-http", help="Serve Slack over HTTP (/slack/events).")
    ] = False,
    port: Annotated[
        int | None,
        typer.Option(
            help="HTTP port for Teams' /api/messages and, in Slack's HTTP mode, Slack's "
            "/slack/events: one listener serves both, with /healthz."
        ),
    ] = None,
    ops_port: Annotated[
        int | None, typer.Option(help="Port for /healthz and /metrics (ops.port).")
    ] = None,
) -> None:
    """Run every platform whose credentials are set (Slack, Discord, Teams), or the console if
    none is.

    SIGTERM (or Ctrl-C) stops it gracefully: no new requests are taken, what was acknowledged
    and the send under way finish, unsent deliveries go back to the queue, then it exits."""
    overrides = {}
    if slack_http:
        overrides["CYCLES_SLACK__MODE"] = "http"
    if port is not None:
        # One port for every platform: adapters on the same host and port share a listener.
        overrides["CYCLES_SLACK__HTTP_PORT"] = overrides["CYCLES_TEAMS__HTTP_PORT"] = str(port)
    if ops_port is not None:
        overrides["CYCLES_OPS__PORT"] = str(ops_port)
    settings = _settings(config, **overrides)
    _run(_serve(settings))


async def _serve(settings: Settings) -> None:
    from bot.app import build_app, platform_adapters, serve  # lazy: see the module docstring

    setup_logging(settings.bot.log_level, settings.bot.log_format)
    app = await build_app(settings)
    adapters = platform_adapters(app)
    if not adapters:
        await _shell(app, interactive=sys.stdin.isatty())
        return
    for adapter in adapters:
        app.add_adapter(adapter)
    await serve(app)


@cli.command()
def shell(config: ConfigOption = None, db: DbOption = None) -> None:
    """The bot in the terminal. Reads one command per line when stdin is not a terminal."""
    overrides = {"CYCLES_DATABASE_URL": f"sqlite+aiosqlite:///{db.resolve()}"} if db else {}
    settings = _settings(config, **overrides)

    async def main() -> None:
        from bot.app import build_app  # lazy: see the module docstring

        app = await build_app(settings, with_scheduler=False)
        await _shell(app, interactive=sys.stdin.isatty())

    _run(main())


async def _shell(app: App, *, interactive: bool) -> None:
    # Lazy: the terminal adapter is loaded only by the commands that run it.
    from integrations.console.adapter import ConsoleAdapter
    from integrations.console.lines import LineSource, StreamLines, TerminalLines, lenient
    from integrations.console.shell import SHELL_HELP, Shell

    adapter = ConsoleAdapter(sys.stdout)
    app.add_adapter(adapter)
    stdin = lenient(sys.stdin)
    lines: LineSource = TerminalLines() if interactive else StreamLines(stdin, sys.stdout)
    if interactive:
        print(f"Learning Cycles shell. {SHELL_HELP}")
    try:
        await Shell(app, adapter, lines, sys.stdout).run()
    finally:
        await app.stop()


@cli.command()
def demo(config: ConfigOption = None, db: DbOption = None) -> None:
    """A scripted week of a learning group, ending in the weekly digest.

    Uses a fresh database in a new temporary folder (kept, so the chart can be opened) unless
    --db is given."""
    folder = db.resolve().parent if db else Path(tempfile.mkdtemp(prefix="cycles-demo-"))
    target = db.resolve() if db else folder / "demo.sqlite3"
    settings = _settings(
        config,
        CYCLES_DATABASE_URL=f"sqlite+aiosqlite:///{target}",
        CYCLES_DATA_DIR=str(folder),
        CYCLES_DIGEST__SUMMARISER="offline",
        # A week is short: a quiet experiment is flagged after three days instead of ten.
        CYCLES_ALARMS__STALE_CHECKIN_DAYS="3",
    )
    from integrations.console.demo import run_demo  # lazy: see the module docstring

    _run(run_demo(settings, sys.stdout))


def _migrate(config: Path | None, direction: str, revision: str) -> None:
    settings = _settings(config)

    async def main() -> None:
        # Lazy: see the module docstring.
        from bot.store import migrate, startup
        from bot.store.database import Database

        database = Database(settings.bot.resolved_database_url())
        step = migrate.upgrade if direction == "up" else migrate.downgrade
        try:
            await startup.check(database)
            async with startup.startup_errors(database):
                await step(database, revision)
                typer.echo(f"database at {await migrate.current(database)}")
        finally:
            await database.dispose()

    _run(main())


@db_cli.command("upgrade")
def db_upgrade(config: ConfigOption = None, revision: str = "head") -> None:
    """Migrate the database to the latest schema (the bot also does this on start)."""
    _migrate(config, "up", revision)


@db_cli.command("downgrade")
def db_downgrade(revision: str, config: ConfigOption = None) -> None:
    """Migrate the database down to REVISION ('base' empties it)."""
    _migrate(config, "down", revision)


@cli.command("slack-manifest")
def slack_manifest(config: ConfigOption = None) -> None:
    """Print a Slack app manifest to paste into Slack's "create from manifest"."""
    from integrations.slack.manifest import render_manifest  # lazy: see the module docstring

    try:
        typer.echo(render_manifest(_settings(config)))
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


@cli.command("teams-manifest")
def teams_manifest(config: ConfigOption = None) -> None:
    """Print the Teams app manifest (manifest.json of the app package; see the README)."""
    # Lazy: see the module docstring.
    from bot.commands import all_specs
    from bot.domain.views import CommandInfo
    from integrations.teams.manifest import render_manifest

    commands = [CommandInfo(s.path, s.usage, s.summary) for s in all_specs()]
    try:
        typer.echo(render_manifest(_settings(config), commands))
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


def main() -> None:
    cli()
