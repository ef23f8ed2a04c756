"""Alembic's environment for ocrebot: one async engine from `storage.db`, SQLite or PostgreSQL.

Run through `storage.migrate`, which hands over an open connection in `config.attributes["connection"]`;
without one (alembic's own commands on `storage.migrate.alembic_config(url)`), it opens its own engine
from `config.attributes["url"]` (or an ini file's `sqlalchemy.url`). SQLite gets batch mode (tables are
rebuilt to alter them) with foreign keys off during the migration and `PRAGMA foreign_key_check` before
commit, as sqlite.org/lang_altertable.html prescribes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import text
from sqlalchemy.engine import Connection

from storage.db import create_engine
from storage.models import Base
from storage.types import JSONDocument, UTCDateTime

config = context.config
target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Renders our column types as plain SQLAlchemy ones, so revisions never import `storage`."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, JSONDocument):
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return 'sa.JSON().with_variant(postgresql.JSONB(), "postgresql")'
    return False


def run_migrations(connection: Connection) -> None:
    """Runs the migrations (or the autogenerate comparison) on an open connection."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    if connection.dialect.name == "sqlite":
        broken = connection.execute(text("PRAGMA foreign_key_check")).fetchall()
        if broken:
            raise RuntimeError(f"migration left rows breaking foreign keys: {broken[:5]}")


async def _run_with_own_engine(url: str) -> None:
    engine = create_engine(url, sqlite_foreign_keys=False)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run_migrations)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
connection = config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    asyncio.run(_run_with_own_engine(url))
