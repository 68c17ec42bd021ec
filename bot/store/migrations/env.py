"""Alembic environment: always handed a live connection by bot.store.migrate."""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from alembic import context
from alembic.autogenerate.api import AutogenContext

from bot.store import models  # noqa: F401  (registers the tables on Base.metadata)
from bot.store.base import Base, UTCDateTime


def render_item(kind: str, obj: Any, ctx: AutogenContext) -> str | Literal[False]:
    # Migrations store plain timezone-aware datetimes; the UTC handling lives in the model.
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


_ = sa

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `cycles db upgrade`, which supplies the connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    render_item=render_item,
)
with context.begin_transaction():
    context.run_migrations()
