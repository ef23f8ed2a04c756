"""Console fixtures: the app running on a migrated database (SQLite and PostgreSQL), with a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from admin import security
from tests.admin.console import Console, running_console


@pytest.fixture
async def console(
    database_url: str, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Console]:
    """The app with its lifespan entered and a client that does not follow redirects."""
    async with running_console(database_url, sessions) as running:
        yield running


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with test-sized cost (our own module's hasher, not a library internal): same code path."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    dummy = cheap.hash("not a password of anyone")
    monkeypatch.setattr(security, "_HASHER", cheap)
    monkeypatch.setattr(security, "_dummy_hash", lambda: dummy)
