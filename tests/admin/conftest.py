"""Console fixtures: the app running on a migrated database (SQLite and PostgreSQL), with a fake clock, and
the same with Telegram and SMS on against the fake Bot API and the fake Twilio (`live`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from admin import security
from tests.admin.console import Console, running_console
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.ocrebot.conftest import SETTING_NAMES
from tests.ocrebot.twilio_app import PUBLIC


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


@pytest.fixture
async def channels() -> AsyncIterator[tuple[FakeTelegram, FakeTwilio]]:
    """The fake Bot API and the fake Twilio, running on loopback."""
    telegram, twilio = FakeTelegram(), FakeTwilio()
    await telegram.start()
    await twilio.start()
    yield telegram, twilio
    await twilio.stop()
    await telegram.stop()


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No setting from the caller's environment leaks in."""
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def live(
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
    channels: tuple[FakeTelegram, FakeTwilio],
    no_env: None,
) -> AsyncIterator[Console]:
    """The app with Telegram (webhook mode) and SMS on, against the fakes."""
    telegram, twilio = channels
    async with running_console(
        database_url,
        sessions,
        telegram_bot_token=telegram.token,
        telegram_api_base_url=telegram.base_url,
        telegram_webhook_url=f"{PUBLIC}/webhooks/telegram",
        telegram_webhook_secret="s3cret",
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_from_number=FROM_NUMBER,
        twilio_api_base_url=twilio.base_url,
        public_base_url=PUBLIC,
    ) as console:
        yield console
