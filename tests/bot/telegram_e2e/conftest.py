"""Fixtures: the fake Bot API, a fake clock, the default plan, and a running bot on the test database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from care.clock import FakeClock
from care.plan import ReminderPlan, load_plan
from tests.bot.dialog.helpers import START
from tests.bot.telegram_e2e.harness import Bot
from tests.fakes.telegram_api import FakeTelegram


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture(scope="session")
def plan() -> ReminderPlan:
    return load_plan()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """Telegram's overall limit (30/s); the per-chat one scaled to a patient who answers in 10 ms, not 10 s.

    A person sends a message every few seconds, so Telegram's ~1/s per chat (short bursts allowed) never
    binds on replies; the simulated user answers ~100 times faster, so the bucket is ~100 times larger.
    test_rate_limits.py runs with Telegram's own figures.
    """
    server = FakeTelegram(chat_per_s=100, chat_burst=20)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def bot(
    fake: FakeTelegram, sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan, clock: FakeClock
) -> AsyncIterator[Bot]:
    running = Bot(fake, sessions, plan, clock)
    await running.start()
    yield running
    await running.stop()
    assert running.errors == [], f"errors reached the Application: {running.errors!r}"
