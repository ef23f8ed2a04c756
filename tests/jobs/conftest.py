"""Fixtures for the jobs: a fake clock, the fake Bot API with a real PTB `Bot`, a test renderer, dispatchers.

Every test runs on SQLite and (with TEST_DATABASE_URL) PostgreSQL through `tests/conftest.py`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot

from bot.channels.base import Sender
from bot.channels.telegram_out import TelegramSender, create_bot
from bot.channels.web import WebSender
from care.clock import FakeClock
from care.plan import ReminderPlan, load_plan
from jobs.dispatcher import Dispatcher, Renderer
from storage.models import Channel
from tests.fakes.telegram_api import FakeTelegram
from tests.jobs.builders import NOW, TestRenderer


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture(scope="session")
def plan() -> ReminderPlan:
    return load_plan()


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def bot(telegram: FakeTelegram) -> AsyncIterator[Bot]:
    async with create_bot(telegram.token, telegram.base_url) as bot:
        yield bot


@pytest.fixture
def renderer() -> TestRenderer:
    return TestRenderer()


@pytest.fixture
def make_dispatcher(
    sessions: async_sessionmaker[AsyncSession],
    bot: Bot,
    plan: ReminderPlan,
    renderer: TestRenderer,
    clock: FakeClock,
) -> Callable[..., Dispatcher]:
    """Builds dispatchers: Telegram through the fake (pacing loosened for speed) and the web channel."""

    def make(
        worker_id: str = "worker-1",
        *,
        sessions: async_sessionmaker[AsyncSession] = sessions,
        extra: dict[Channel, Sender] | None = None,
        render: Renderer = renderer,
        **options: Any,
    ) -> Dispatcher:
        senders: dict[Channel, Sender] = {
            Channel.TELEGRAM: TelegramSender(bot, chat_per_s=100, chat_burst=10),
            Channel.WEB: WebSender(),
            **(extra or {}),
        }
        return Dispatcher(sessions, senders, plan, render, clock, worker_id, **options)

    return make
