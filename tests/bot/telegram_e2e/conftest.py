"""Fixtures: the fake Bot API, a fake clock, the default plan, a running bot on the test database, and for
the SMS side the fake Twilio, a bot that has SMS on and the dispatcher sending through both fakes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.sms import SmsSender
from bot.channels.telegram_out import TelegramSender, create_bot
from care.clock import FakeClock
from care.plan import ReminderPlan, load_plan
from care.triage import load_policy
from jobs.dispatcher import Dispatcher
from jobs.render import OutboxRenderer
from storage.models import Channel
from tests.bot.dialog.helpers import START
from tests.bot.telegram_e2e.harness import Bot
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio


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


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    server = FakeTwilio()
    await server.start()
    yield server
    await server.stop()
    assert server.violations == [], server.calls


@pytest.fixture
async def sms_bot(
    fake: FakeTelegram, sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan, clock: FakeClock
) -> AsyncIterator[Bot]:
    """The bot of a clinic with SMS on: a number typed at sign-up is asked for its YES."""
    running = Bot(fake, sessions, plan, clock, sms_enabled=True)
    await running.start()
    yield running
    await running.stop()
    assert running.errors == [], f"errors reached the Application: {running.errors!r}"


@pytest.fixture
async def dispatcher(
    fake: FakeTelegram,
    twilio: FakeTwilio,
    sessions: async_sessionmaker[AsyncSession],
    plan: ReminderPlan,
    clock: FakeClock,
) -> AsyncIterator[Dispatcher]:
    """The real dispatcher, sending through the fake Bot API and the real twilio client to the fake Twilio."""
    sms = SmsSender(
        ACCOUNT_SID,
        AUTH_TOKEN,
        from_number=FROM_NUMBER,
        api_base_url=twilio.base_url,
        status_callback_url="https://ocrebot.example/webhooks/twilio/status",
    )
    async with create_bot(fake.token, fake.base_url) as bot:
        senders = {Channel.TELEGRAM: TelegramSender(bot, chat_per_s=100, chat_burst=10), Channel.SMS: sms}
        yield Dispatcher(sessions, senders, plan, OutboxRenderer(clock, load_policy(), None), clock, "e2e")
    await sms.aclose()
