"""Schema migrations without alembic.ini: upgrade, current and head revision, for SQLite and PostgreSQL.

Owns the Alembic configuration (scripts in `storage/migrations/`, dated file names). To write a new
revision against a database at head: `alembic.command.revision(alembic_config(url), message="...",
rev_id="0002", autogenerate=True)`, then read and edit it.
Must not import `bot`, `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, make_url

from storage.db import create_engine

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")
# Doubled percent signs: Config values go through configparser interpolation.
FILE_TEMPLATE = "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s"

T = TypeVar("T")


def alembic_config(url: str) -> Config:
    """Returns the Alembic configuration for the database at `url` (passed on, never written to a file)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", FILE_TEMPLATE)
    config.set_main_option("timezone", "UTC")
    config.set_main_option("path_separator", "os")
    config.attributes["url"] = url
    return config


def head_revision() -> str | None:
    """Returns the newest revision the code ships."""
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


async def upgrade_async(url: str, revision: str = "head") -> None:
    """Upgrades the database at `url` to `revision` in one transaction, from inside a running event loop."""
    engine = create_engine(url, sqlite_foreign_keys=False)  # env.py runs PRAGMA foreign_key_check instead
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade, url, revision)
    finally:
        await engine.dispose()


def _upgrade(connection: Connection, url: str, revision: str) -> None:
    config = alembic_config(url)
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def upgrade(url: str, revision: str = "head") -> None:
    """Upgrades the database at `url` to `revision`; for callers with no running event loop (the CLI)."""
    _run_outside_loop(upgrade_async(url, revision), "upgrade_async")


async def current_revision_async(url: str) -> str | None:
    """Returns the revision the database at `url` is at, or None when it was never migrated.

    A SQLite file that does not exist is not created.
    """
    if _missing_sqlite_file(url):
        return None
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_current)
    finally:
        await engine.dispose()


def _missing_sqlite_file(url: str) -> bool:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return False
    return not Path(parsed.database).exists()


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def current_revision(url: str) -> str | None:
    """Returns the database's revision, or None; for callers with no running event loop."""
    return _run_outside_loop(current_revision_async(url), "current_revision_async")


def _run_outside_loop(coroutine: Coroutine[Any, Any, T], async_name: str) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    coroutine.close()
    raise RuntimeError(f"called inside a running event loop: await storage.migrate.{async_name}() instead")
