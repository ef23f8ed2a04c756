"""Migrations: the initial revision builds exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import CheckConstraint, inspect
from sqlalchemy.engine import Connection

from storage.db import create_engine
from storage.migrate import (
    MIGRATIONS_DIR,
    alembic_config,
    current_revision,
    current_revision_async,
    head_revision,
    upgrade,
    upgrade_async,
)
from storage.models import Base

QUOTED = re.compile(r"'([^']*)'")


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return compare_metadata(context, Base.metadata)


def _check_constraints(connection: Connection) -> dict[str, set[str]]:
    inspector = inspect(connection)
    return {
        check["name"]: set(QUOTED.findall(check["sqltext"]))
        for table in inspector.get_table_names()
        for check in inspector.get_check_constraints(table)
    }


def _model_check_constraints() -> dict[str, set[str]]:
    checks: dict[str, set[str]] = {}
    for table in Base.metadata.tables.values():
        for constraint in table.constraints:
            if isinstance(constraint, CheckConstraint):
                compiled = str(constraint.sqltext.compile(compile_kwargs={"literal_binds": True}))
                checks[str(constraint.name)] = set(QUOTED.findall(compiled))
    return checks


async def test_a_database_upgraded_to_head_has_exactly_the_models_schema(database_url: str) -> None:
    await upgrade_async(database_url)
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
            assert await connection.run_sync(_check_constraints) == _model_check_constraints()
    finally:
        await engine.dispose()


async def test_current_revision_is_none_until_upgraded_then_head_and_a_second_upgrade_changes_nothing(
    database_url: str,
) -> None:
    assert await current_revision_async(database_url) is None
    await asyncio.to_thread(upgrade, database_url)  # the synchronous entry point, as the CLI calls it
    await upgrade_async(database_url)
    assert await asyncio.to_thread(current_revision, database_url) == head_revision() == "0006"


async def test_alembic_commands_through_env_py_find_nothing_to_generate_and_downgrade_to_empty(
    database_url: str,
) -> None:
    config = alembic_config(database_url)
    await asyncio.to_thread(command.upgrade, config, "head")
    await asyncio.to_thread(command.check, config)  # raises when autogenerate would write anything
    await asyncio.to_thread(command.downgrade, config, "base")
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await engine.dispose()
    assert tables == ["alembic_version"]


def test_asking_the_revision_of_a_missing_sqlite_file_does_not_create_it(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "ocrebot.db"
    assert current_revision(f"sqlite+aiosqlite:///{path}") is None
    assert not path.parent.exists()


async def test_the_synchronous_upgrade_refuses_a_running_loop_and_names_the_async_one(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="upgrade_async"):
        upgrade(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")


def test_revisions_are_dated_and_never_import_the_application() -> None:
    revisions = sorted((MIGRATIONS_DIR / "versions").glob("*.py"))
    assert revisions, "no revision found"
    for path in revisions:
        assert re.fullmatch(r"\d{4}_\d{2}_\d{2}_\d{4}_[a-z0-9_]+\.py", path.name), path.name
        source = path.read_text()
        assert not re.search(r"^\s*(from|import)\s+(storage|care|bot|jobs|admin|ocrebot)\b", source, re.M), (
            path.name
        )
