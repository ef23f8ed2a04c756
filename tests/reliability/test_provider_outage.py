"""The Bot API answering 500 for a while: every row still goes out once, after backoffs that grow.

Runs the real dispatcher, TelegramSender and APScheduler wake-ups in the test's loop, on a SQLite file and,
with TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.telegram_out import TelegramSender, create_bot
from care.clock import SystemClock
from care.plan import load_plan
from jobs import wakeup
from jobs.dispatcher import Dispatcher
from jobs.scheduler import create_scheduler
from storage.models import Channel, MessageStatus
from tests.fakes.telegram_api import FakeTelegram
from tests.reliability.conftest import FIRST_CHAT, received, seed_due, stored_rows
from tests.reliability.worker import render

ROWS = 20
OUTAGE_S = 3.5  # failures at about 0 s, 1 s and 3 s: two backoffs at least, even on a slow machine
BACKOFF_S = 1.0


async def test_an_outage_of_server_errors_is_ridden_out_with_growing_backoff(
    sessions: async_sessionmaker[AsyncSession], fake_fast: FakeTelegram
) -> None:
    ids = await seed_due(sessions, ROWS)
    fake_fast.fail_for("sendMessage", OUTAGE_S, 500, "Internal Server Error")
    clock = SystemClock()
    scheduler = create_scheduler()
    waits: dict[int, set[float]] = defaultdict(set)  # row id -> the backoffs it was given
    async with create_bot(fake_fast.token, fake_fast.base_url) as bot:
        sender = TelegramSender(bot, overall_per_s=1_000, overall_burst=1_000, chat_per_s=100, chat_burst=10)
        dispatcher = Dispatcher(
            sessions, {Channel.TELEGRAM: sender}, load_plan(), render, clock, "w1", backoff_s=BACKOFF_S
        )
        scheduler.start()
        wake = wakeup.install(scheduler, dispatcher, clock, tick_s=0.5)
        try:
            async with asyncio.timeout(30):
                while True:
                    rows = await stored_rows(sessions)
                    for row in rows:
                        if row.status is MessageStatus.PENDING and row.next_attempt_at is not None:
                            waits[row.id].add(
                                round((row.next_attempt_at - row.updated_at).total_seconds(), 1)
                            )
                    if all(row.status is MessageStatus.SENT for row in rows):
                        break
                    await asyncio.sleep(0.05)
        finally:
            await wake.stop()
            scheduler.shutdown(wait=False)

    rows = await stored_rows(sessions)
    assert all(row.status is MessageStatus.SENT and row.attempts > 1 for row in rows)
    assert received(fake_fast) == dict.fromkeys(ids, 1)
    for row_id in ids:  # 1 s after the first failure, 2 s after the second, ...
        assert sorted(waits[row_id]) == [BACKOFF_S * 2**n for n in range(len(waits[row_id]))], waits[row_id]
        assert len(waits[row_id]) >= 2
    for chat in range(FIRST_CHAT + 1, FIRST_CHAT + ROWS + 1):  # as the fake saw it: gaps that grow
        times = [c.at for c in fake_fast.calls if c.method == "sendMessage" and c.params["chat_id"] == chat]
        gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
        assert len(gaps) >= 2 and all(b > a for a, b in zip(gaps, gaps[1:], strict=False)), gaps
