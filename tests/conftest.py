"""Database fixtures for every test package: one fresh database per test, on SQLite and on PostgreSQL.

- `database_url`: an empty database. Parametrized: `sqlite` (a new file in the test's tmp_path) and
  `postgresql` (env `TEST_DATABASE_URL`, e.g. `postgresql+asyncpg://postgres@127.0.0.1:5432/test`, whose
  `public` schema is dropped and recreated before each test; skipped when the variable is unset). Tests run
  one at a time, so they never share that schema.
- `engine`: an engine from `storage.db.create_engine` on that database, migrated to head; disposed after.
- `sessions`: the session maker for `engine` (open one session per worker or per transaction).
- `session`: one open session from `sessions`; commit or roll back yourself.
Any test that asks for one of them runs once per database.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.db import create_engine, session_factory
from storage.migrate import upgrade_async

POSTGRES_SKIP_REASON = "TEST_DATABASE_URL not set: PostgreSQL runs skip"


async def _reset_public_schema(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database, on SQLite and (when TEST_DATABASE_URL is set) on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'ocrebot.db'}"
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip(POSTGRES_SKIP_REASON)
    await _reset_public_schema(url)
    return url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a database migrated to head."""
    await upgrade_async(database_url)
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """The session maker of `engine`."""
    return session_factory(engine)


@pytest.fixture
async def session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One open session; the test commits what it wants others to see."""
    async with sessions() as session:
        yield session
