"""The database handle: one engine and one session factory, made by the composition root."""

from __future__ import annotations

import shlex
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import URL, event, make_url
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.errors import ConfigError, NotSaved, NotStorable
from bot.store.groupcommit import POSTGRES_AT_ONCE, GroupCommit, Work
from bot.store.sqlite import PATIENCE_MS, connector

T = TypeVar("T")
Read = Callable[[AsyncConnection], Awaitable[T]]

# A server that does not answer within this long counts as unreachable at start.
CONNECT_SECONDS = 15.0
URL_FIX = "fix bot.database_url (CYCLES_DATABASE_URL)"


def _sqlite_pragmas(busy_ms: int) -> Callable[[Any, Any], None]:
    def pragmas(dbapi_conn: Any, _record: Any) -> None:
        # WAL lets readers run beside the writer. The busy timeout waits for another writer's
        # lock instead of failing at once; on the loop's thread it is 0 (bot/store/sqlite.py).
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={busy_ms}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    return pragmas


class StartupFailed(ConfigError):
    """The database cannot be used at start; the message is one line: what and how to fix it."""


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StartupFailed(
            f"database: cannot create the folder {folder} ({exc.strerror or exc}); set "
            "bot.data_dir (CYCLES_DATA_DIR) to a writable folder."
        ) from None


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            path = url.split(":///", 1)[1] if ":///" in url else ""
            on_file = bool(path) and path != ":memory:" and "?" not in path
            if on_file:
                _make_folder(Path(path).parent)
            # A file's statements run on the event loop's thread (bot/store/sqlite.py).
            creator: dict[str, Any] = {"async_creator": connector(path)} if on_file else {}
            busy_ms = 0 if on_file else PATIENCE_MS
            # hide_parameters: statements and errors never carry entry text into a log.
            # No reset when a connection goes back to the pool: every session and connection
            # has ended its transaction by then (commit, or the rollback of a failure), and on
            # aiosqlite the pool's extra ROLLBACK is one more trip through the driver's thread,
            # which made a read-only command like `help` take about twice as long.
            self.engine: AsyncEngine = create_async_engine(
                url, echo=echo, hide_parameters=True, pool_reset_on_return=None, **creator
            )
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas(busy_ms))
            self.reads = self.engine
        else:
            engine_url, connect_args = _postgres_url(url)
            # pre_ping: a PostgreSQL restart costs one reconnect, not a failed request.
            self.engine = create_async_engine(
                engine_url,
                echo=echo,
                hide_parameters=True,
                pool_pre_ping=True,
                pool_size=10,
                max_overflow=10,
                connect_args=connect_args,
            )
            # Reads have a pool of their own, in autocommit and without the pre-ping: a read
            # is then one round trip, not four (ping, BEGIN, the select, the ROLLBACK as the
            # connection goes back). A read that meets a dropped connection runs again
            # instead (`read`). Check-ins end to end, `python -m bench --only ack`: 709-744
            # a second through the shared pool, 889-1,013 through this one. No overflow: an
            # overflow connection is closed as it comes back, and opening them again under a
            # burst cost more than waiting (5 kept and 15 more: 582 a second).
            self.reads = create_async_engine(
                engine_url,
                echo=echo,
                hide_parameters=True,
                isolation_level="AUTOCOMMIT",
                pool_size=10,
                max_overflow=0,
                connect_args=connect_args,
            )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.group = GroupCommit(self.begin, at_once=1 if self.is_sqlite else POSTGRES_AT_ONCE)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:
        """One transaction per use case. A database failure becomes NotSaved for the person."""
        with _refusals():
            async with self.sessions.begin() as session:
                yield session

    async def read(self, query: Read[T]) -> T:
        """A Core read without an ORM session: about half the cost of `begin` for one short
        statement (every command's who-and-where). On PostgreSQL, a read that finds its pooled
        connection dropped (the server restarted) runs once more on a new one. Nothing written
        here is kept. Failures as in `begin`."""
        with _refusals():
            try:
                async with self.reads.connect() as connection:
                    return await query(connection)
            except DBAPIError as exc:
                if not exc.connection_invalidated:
                    raise
            async with self.reads.connect() as connection:
                return await query(connection)

    async def write(self, work: Work[T]) -> T:
        """A command's short write, committed together with other commands' writes (see
        groupcommit.py); returns once it has committed. Failures as in `begin`."""
        return await self.group.run(work)

    @property
    def engines(self) -> list[AsyncEngine]:
        """Every engine this handle sends statements through (one on SQLite)."""
        return [self.engine] if self.reads is self.engine else [self.engine, self.reads]

    async def dispose(self) -> None:
        await self.group.close()
        await self.engine.dispose()
        await self.reads.dispose()


def _postgres_url(url: str) -> tuple[URL, dict[str, Any]]:
    """The engine's URL and connection arguments. asyncpg takes libpq's `sslmode` as `ssl`,
    and no `options`: the server settings they carry (`?options=-csearch_path%3Dcycles`) go
    to it as `server_settings`. So one URL means the same through either driver."""
    parsed = make_url(url)
    if parsed.get_driver_name() != "asyncpg":
        return parsed, {}
    parsed = _renamed(parsed, "sslmode", "ssl")
    options = parsed.query.get("options")
    if options is None:
        return parsed, {}
    text = options if isinstance(options, str) else " ".join(options)
    settings = _server_settings(text)
    if settings is None:
        raise ConfigError(
            f"database: the options '{text}' are not settings such as -c search_path=cycles; "
            f"{URL_FIX}."
        )
    return parsed.difference_update_query(["options"]), {"server_settings": settings}


def psycopg_url(url: str) -> URL:
    """The same database through psycopg (asyncpg's `ssl` is libpq's `sslmode`)."""
    return _renamed(make_url(url).set(drivername="postgresql+psycopg"), "ssl", "sslmode")


def _renamed(url: URL, old: str, new: str) -> URL:
    if old not in url.query or new in url.query:
        return url
    return url.difference_update_query([old]).update_query_dict({new: url.query[old]})


def _server_settings(options: str) -> dict[str, str] | None:
    """`-c name=value` (also `-cname=value`, `--name=value`) pairs; None if anything else."""
    settings: dict[str, str] = {}
    words = iter(shlex.split(options))
    for word in words:
        if word == "-c":
            word = next(words, "")
        elif word.startswith(("-c", "--")):
            word = word[2:]
        else:
            return None
        name, equals, value = word.partition("=")
        if not name or not equals:
            return None
        settings[name.replace("-", "_")] = value
    return settings


@contextmanager
def _refusals() -> Iterator[None]:
    """A database failure becomes NotSaved for the person; integrity errors pass unchanged."""
    try:
        yield
    except OSError as exc:  # asyncpg's, connecting to a server that is down
        raise NotSaved() from exc
    except (OperationalError, DBAPIError) as exc:
        if isinstance(exc, IntegrityError):
            raise
        # A value the database can never store (a string too big, a number out of range)
        # is the person's to change, not a reason to try again.
        # SQLSTATE class 22, data exception: psycopg raises DataError, asyncpg a plain Error.
        if isinstance(exc, DataError) or str(getattr(exc.orig, "sqlstate", ""))[:2] == "22":
            raise NotStorable() from exc
        raise NotSaved() from exc
