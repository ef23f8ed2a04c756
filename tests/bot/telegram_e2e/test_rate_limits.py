"""Telegram's own limits (about 30 messages a second overall, about one a second per chat with short bursts):
replies that run into a 429 are sent again after its retry_after, none is lost, nothing crashes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from care.clock import FakeClock
from care.plan import ReminderPlan
from tests.bot.telegram_e2e.harness import Bot
from tests.fakes.telegram_api import FakeTelegram


@pytest.fixture
async def strict_bot(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan, clock: FakeClock
) -> AsyncIterator[Bot]:
    fake = FakeTelegram()  # Telegram's figures: 30/s overall, 1/s per chat after a burst of 3
    await fake.start()
    running = Bot(fake, sessions, plan, clock)  # the channel's own limiter: 30/s, two retries on a 429
    await running.start()
    yield running
    await running.stop()
    await fake.stop()
    assert running.errors == []


async def test_a_chat_over_its_burst_gets_every_reply_after_the_429s_retry_after(strict_bot: Bot) -> None:
    user = strict_bot.user(7501)
    await user.send("hi")  # 1 message
    await user.send("/help")  # 2 more: the burst of 3 is spent
    replies = await user.send("/help")  # 2 more: Telegram answers 429 "retry after 1", the limiter waits
    assert strict_bot.fake.rate_limited >= 1
    assert len(replies) == 2 and replies[0]["text"].startswith("Here's what I can do:")
    assert "Do you agree?" in replies[1]["text"]
    assert len(strict_bot.sent_to(7501)) == 5


async def test_forty_patients_at_once_are_all_answered_within_the_overall_limit(strict_bot: Bot) -> None:
    users = [strict_bot.user(7600 + index) for index in range(40)]
    started = asyncio.get_running_loop().time()
    await asyncio.gather(*(user.send("hello") for user in users))
    elapsed = asyncio.get_running_loop().time() - started
    assert all("Do you agree?" in user.text for user in users)
    sends = sorted(
        call.at for call in strict_bot.fake.calls if call.method == "sendMessage" and call.status == 200
    )
    assert len(sends) == 40
    assert sends[-1] - sends[0] >= 0.3  # 30 at once, then paced at 30 a second by the channel's limiter
    assert elapsed < 10
