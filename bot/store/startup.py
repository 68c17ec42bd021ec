"""Start-up checks on the database, and every failure at start as one line naming the fix.

A new user's first run meets the database before anything else: a server that is down, a
database never created, a folder that cannot be written, a full disk or a damaged SQLite file
must each say what is wrong and what to do, not print a traceback."""

from __future__ import annotations

import asyncio
import re
import socket
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError

from bot.errors import NotSaved
from bot.store.database import CONNECT_SECONDS, URL_FIX, Database, StartupFailed


async def check(db: Database) -> None:
    """Connect once (giving up after CONNECT_SECONDS) and, on SQLite, run PRAGMA quick_check:
    a file with damaged pages stops the bot here instead of failing later, or worse, not."""
    async with startup_errors(db):
        try:
            async with asyncio.timeout(CONNECT_SECONDS):
                async with db.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
        except TimeoutError:
            raise StartupFailed(
                f"database: no answer from {_where(db)} within {CONNECT_SECONDS:g} s; check "
                f"that the host is reachable, or {URL_FIX}."
            ) from None
        if db.is_sqlite:
            async with db.engine.connect() as conn:
                found = (await conn.exec_driver_sql("PRAGMA quick_check")).scalars().all()
            if list(found) != ["ok"]:
                lines = str(found[0]).splitlines() if found else ["no answer"]
                first = next((line for line in lines if not line.startswith("***")), lines[0])
                raise StartupFailed(_damaged(db, first))


@asynccontextmanager
async def startup_errors(db: Database) -> AsyncIterator[None]:
    """Turn a database failure raised inside into StartupFailed with one line."""
    try:
        yield
    except NotSaved as exc:  # a use case run at start (the template sync) met the failure
        cause = exc.__cause__
        if isinstance(cause, DBAPIError) and _known(cause.orig):
            raise StartupFailed(explain(db, cause.orig)) from None
        raise
    except DBAPIError as exc:
        if _known(exc.orig):
            raise StartupFailed(explain(db, exc.orig)) from None
        if (option := _unknown_option(exc.orig)) is not None:
            raise StartupFailed(_unknown_option_line(db, option)) from None
        raise
    except TypeError as exc:  # asyncpg's connect() meeting a URL option it does not take
        if (option := _unknown_option(exc)) is None:
            raise
        raise StartupFailed(_unknown_option_line(db, option)) from None
    except OSError as exc:
        if not db.is_sqlite:  # asyncpg's own: the server refused, or its host is unknown
            raise StartupFailed(explain(db, exc)) from None
        raise StartupFailed(
            f"database: {_where(db)}: {exc.strerror or exc}; check the folder "
            "(bot.data_dir) exists and is writable."
        ) from None


# SQLSTATE classes of the environment's failures: connection, authorization, unknown database,
# insufficient resources, operator intervention (shutting down, starting up), system error.
ENVIRONMENT_STATES = {"08", "28", "3D", "53", "57", "58"}


def _known(error: BaseException | None) -> bool:
    # Failures of the environment, not of the code: constraint and syntax errors stay loud.
    if isinstance(error, sqlite3.OperationalError | psycopg.OperationalError):
        return True
    if str(getattr(error, "sqlstate", None) or "")[:2] in ENVIRONMENT_STATES:  # asyncpg's
        return True
    return type(error) is sqlite3.DatabaseError  # "file is not a database"


def _unknown_option(error: BaseException | None) -> str | None:
    """The URL option a driver refused: asyncpg's connect() has no such keyword argument,
    psycopg's libpq no such connection option."""
    found = re.search(
        r"unexpected keyword argument '([^']+)'|invalid connection option \"([^\"]+)\"",
        str(error),
    )
    return (found.group(1) or found.group(2)) if found else None


def _unknown_option_line(db: Database, option: str) -> str:
    driver = make_url(db.url).get_driver_name()
    return (
        f"database: the URL's option '{option}' is not one {driver} takes (for TLS, "
        f"sslmode=require works with both drivers); {URL_FIX}."
    )


def explain(db: Database, error: BaseException | None) -> str:
    """One line for a connection or storage failure at start: what, where, and the fix."""
    message = str(error).strip()
    lowered = message.lower()
    if db.is_sqlite:
        return _explain_sqlite(db, message, lowered)
    url = make_url(db.url)
    where = _where(db)
    if "does not exist" in lowered and "database" in lowered:
        name = url.database or ""
        return (
            f"database: {where} has no database '{name}'; create it (createdb -h "
            f"{url.host or 'localhost'} -p {url.port or 5432} -U {url.username or 'postgres'} "
            f"{name}) or {URL_FIX}."
        )
    # asyncpg raises the socket's own errors, psycopg words them in its message.
    if isinstance(error, socket.gaierror) or "resolve" in lowered or "service not known" in lowered:
        return f"database: cannot find the host '{url.host}'; {URL_FIX}."
    if isinstance(error, ConnectionRefusedError) or "refused" in lowered:
        return f"database: cannot connect to {where} (connection refused); start it or {URL_FIX}."
    if isinstance(error, TimeoutError) or "timeout" in lowered or "timed out" in lowered:
        return f"database: no answer from {where} (timed out); check the host, or {URL_FIX}."
    if "authentication" in lowered or "role" in lowered or "password" in lowered:
        return (
            f"database: {where} refused user '{url.username}' ({_last_line(message)}); fix the "
            f"user or password in bot.database_url (CYCLES_DATABASE_URL)."
        )
    return f"database: cannot use {where} ({_last_line(message)}); start it or {URL_FIX}."


def _explain_sqlite(db: Database, message: str, lowered: str) -> str:
    where = _where(db)
    if "malformed" in lowered or "not a database" in lowered or "corrupt" in lowered:
        return _damaged(db, message)
    if "full" in lowered or "disk i/o" in lowered:
        return (
            f"database: cannot write {where} ({message}); the disk may be full: free space or "
            "move bot.data_dir (CYCLES_DATA_DIR) to a disk with room."
        )
    if "readonly" in lowered or "read-only" in lowered or "unable to open" in lowered:
        return (
            f"database: cannot write {where} ({message}); make its folder writable or set "
            "bot.data_dir (CYCLES_DATA_DIR) to one that is."
        )
    if "locked" in lowered:
        return f"database: {where} is locked by another program ({message}); stop it and retry."
    return f"database: cannot use {where} ({message})."


def _damaged(db: Database, detail: str) -> str:
    return (
        f"database: {_where(db)} is damaged ({_last_line(detail)[:80]}); restore it from a "
        "backup, or move it aside to start with an empty one."
    )


def _where(db: Database) -> str:
    url = make_url(db.url)
    if db.is_sqlite:
        return f"the SQLite file {url.database or ':memory:'}"
    return f"PostgreSQL at {url.host or 'localhost'}:{url.port or 5432}"


def _last_line(message: str) -> str:
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return lines[-1] if lines else message
