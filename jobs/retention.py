"""Message text retention: a daily job blanks the text of logged messages older than the retention period.

The rows stay (when, which channel, delivery status), so timelines and counts survive; only the words go.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog.contextvars import bound_contextvars

from care.clock import Clock
from storage.models import MessageLog

log = logging.getLogger(__name__)

JOB_ID = "message-retention"
AFTER_START = timedelta(minutes=5)


async def blank_old_texts(sessions: async_sessionmaker[AsyncSession], now: datetime, days: int) -> int:
    """Blanks the text of every message logged more than `days` days before `now`; returns how many."""
    cutoff = now - timedelta(days=days)
    async with sessions() as session, session.begin():
        result = await session.execute(
            update(MessageLog)
            .where(MessageLog.created_at < cutoff, MessageLog.text.is_not(None))
            .values(text=None)
        )
    count = int(result.rowcount)
    if count:
        log.info("retention: blanked %s message texts older than %s days", count, days)
    return count


def install(
    scheduler: BaseScheduler, sessions: async_sessionmaker[AsyncSession], clock: Clock, days: int
) -> None:
    """Runs the retention daily at 03:15 UTC, and once 5 minutes after start (a missed night caught up)."""

    async def run() -> None:
        with bound_contextvars(job=JOB_ID, run_id=uuid.uuid4().hex[:12]):
            try:
                await blank_old_texts(sessions, clock.now(), days)
            except Exception as exc:  # tomorrow's run tries again
                log.error("retention failed: %s", type(exc).__name__)

    options: dict[str, Any] = {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}
    scheduler.add_job(run, "cron", hour=3, minute=15, id=JOB_ID, replace_existing=True, **options)
    soon = datetime.now(UTC) + AFTER_START  # not at once: start-up and shutdown stay quick and quiet
    scheduler.add_job(
        run, "date", run_date=soon, id=f"{JOB_ID}-after-start", replace_existing=True, **options
    )
