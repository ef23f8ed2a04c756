"""A worker killed with SIGKILL mid-burst: a new worker sends the rest, and nothing goes out twice.

The dead worker's claimed rows become uncertain when their lease runs out (it may have sent them); they are
never resent. Runs on a SQLite file and, with TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import MessageStatus
from tests.fakes.telegram_api import FakeTelegram
from tests.reliability.conftest import Workers, eventually, received, seed_due, stored_rows

ROWS = 300
BATCH = 20


async def test_a_worker_killed_mid_burst_leaves_at_most_one_batch_uncertain_and_nothing_sent_twice(
    database_url: str, sessions: async_sessionmaker[AsyncSession], workers: Workers
) -> None:
    ids = await seed_due(sessions, ROWS)
    fake = FakeTelegram(overall_per_s=1_000, overall_burst=100, chat_per_s=1, chat_burst=3)
    await fake.start()
    options = ("--overall-per-s", "100", "--batch-size", str(BATCH), "--lease-s", "3", "--tick-s", "0.5")
    try:
        first = await workers.start("first", database_url, fake, *options)
        # Half way through the sixth batch of 20, so a claimed batch is in flight (at 100 the fifth has just
        # ended and the sixth may not be claimed yet: nothing would be uncertain).
        await eventually(lambda: len(fake.sent) >= 5 * BATCH + BATCH // 2, timeout_s=30)
        first.kill()  # SIGKILL: no clean-up, a batch in flight
        await first.wait()
        sent_by_first = len(fake.sent)
        second = await workers.start("second", database_url, fake, *options, "--until-done")
        assert await asyncio.wait_for(second.wait(), 60) == 0, workers.output("second")
    finally:
        await fake.stop()

    rows = await stored_rows(sessions)
    counts = received(fake)
    assert sorted(row.id for row in rows) == ids
    assert {row.status for row in rows} <= {MessageStatus.SENT, MessageStatus.UNCERTAIN}
    uncertain = [row.id for row in rows if row.status is MessageStatus.UNCERTAIN]
    assert 0 < len(uncertain) <= BATCH  # the batch the first worker held when it died
    assert all(row.claimed_by == "first" for row in rows if row.status is MessageStatus.UNCERTAIN)
    assert all(counts[row.id] == 1 for row in rows if row.status is MessageStatus.SENT)
    assert max(counts.values()) == 1, [row_id for row_id, n in counts.items() if n > 1]
    assert set(counts) <= set(ids)
    assert ROWS - len(uncertain) <= len(fake.sent) <= ROWS and sent_by_first < ROWS
