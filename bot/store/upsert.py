"""Insert-if-absent on a natural key, on SQLite and PostgreSQL alike: the idempotency primitive."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.base import Base

M = TypeVar("M", bound=Base)


async def insert_ignore(
    session: AsyncSession, model: type[M], values: dict[str, Any], keys: Sequence[str]
) -> bool:
    """Insert a row unless one with the same `keys` exists. True when this call inserted it."""
    table: Any = model.__table__
    dialect = session.get_bind().dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)
    else:
        stmt = sqlite.insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)
    # RETURNING, not rowcount: psycopg reports -1 for an insert that PostgreSQL skipped.
    result: Any = await session.execute(stmt.returning(*table.primary_key.columns))
    return result.first() is not None


async def get_or_create(
    session: AsyncSession, model: type[M], keys: dict[str, Any], defaults: dict[str, Any]
) -> M:
    """The row with `keys`, created with `defaults` if absent; a concurrent creator wins cleanly."""
    await insert_ignore(session, model, {**defaults, **keys}, list(keys))
    query = select(model).filter_by(**keys)
    row = (await session.execute(query)).scalar_one()
    return row


async def upsert(
    session: AsyncSession,
    model: type[M],
    values: dict[str, Any],
    keys: Sequence[str],
    changes: Sequence[str],
) -> None:
    """Insert a row, or when one with the same `keys` exists set its `changes` columns from
    `values`: one row per natural key whatever the races."""
    table: Any = model.__table__
    insert: Any = (
        postgresql.insert(table)
        if session.get_bind().dialect.name == "postgresql"
        else sqlite.insert(table)
    ).values(**values)
    stmt = insert.on_conflict_do_update(
        index_elements=keys, set_={name: insert.excluded[name] for name in changes}
    )
    await session.execute(stmt)
