"""The engine: SQLite pragmas and write locking, the folder of a SQLite file, ping, URLs fit for logs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import create_engine, ping, redact_url


async def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        async with engine.connect() as connection:
            pragma = {
                name: (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar_one()
                for name in ("journal_mode", "foreign_keys", "busy_timeout")
            }
    finally:
        await engine.dispose()
    assert pragma["journal_mode"] == "wal"
    assert pragma["foreign_keys"] == 1
    assert pragma["busy_timeout"] > 0


async def test_the_folder_of_a_sqlite_file_is_created_when_missing(tmp_path: Path) -> None:
    path = tmp_path / "data" / "deeper" / "ocrebot.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        assert path.parent.is_dir()
        await ping(engine)
    finally:
        await engine.dispose()
    assert path.is_file()


async def test_sqlite_read_then_write_transactions_wait_for_each_other_instead_of_failing(
    tmp_path: Path,
) -> None:
    # Without BEGIN IMMEDIATE the second writer's read lock cannot be upgraded: "database is locked".
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    engines = [create_engine(url) for _ in range(3)]
    try:
        async with engines[0].begin() as connection:
            await connection.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
            await connection.execute(text("INSERT INTO counter VALUES (0)"))

        async def increment(engine_index: int) -> None:
            async with engines[engine_index].begin() as connection:
                n = (await connection.execute(text("SELECT n FROM counter"))).scalar_one()
                await asyncio.sleep(0.02)
                await connection.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})

        await asyncio.gather(*(increment(i % 3) for i in range(9)))
        async with engines[0].connect() as connection:
            assert (await connection.execute(text("SELECT n FROM counter"))).scalar_one() == 9
    finally:
        for engine in engines:
            await engine.dispose()


async def test_ping_answers_on_a_migrated_database(engine) -> None:
    await ping(engine)


async def test_ping_raises_when_the_database_is_unreachable() -> None:
    engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/nothing")
    try:
        with pytest.raises(OSError):
            await ping(engine)
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+asyncpg://bot:s3cret@db:5432/ocrebot", "postgresql+asyncpg://bot:***@db:5432/ocrebot"),
        ("sqlite+aiosqlite:///./data/ocrebot.db", "sqlite+aiosqlite:///./data/ocrebot.db"),
        ("not a url", "<unparseable database URL>"),
    ],
    ids=["password_masked", "sqlite_unchanged", "garbage_not_echoed"],
)
def test_redact_url_hides_the_password(url: str, shown: str) -> None:
    assert redact_url(url) == shown
