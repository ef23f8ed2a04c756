"""Counts for the metrics endpoint, read from the database so every process reports the same truth.

Counts only: no names, numbers or texts. Must not import `bot`, `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CheckIn, Direction, MessageLog, MessageStatus, ScheduledMessage


@dataclass(frozen=True)
class OutboxCounts:
    """Outbox rows by (status, channel or "none", kind); the oldest due pending row; check-ins waiting."""

    messages: dict[tuple[str, str, str], int]
    inbound: dict[str, int]
    oldest_due_at: datetime | None
    flagged_waiting: int


async def outbox_counts(session: AsyncSession, now: datetime) -> OutboxCounts:
    """Reads every count in one short transaction of the caller's."""
    SM = ScheduledMessage
    rows = await session.execute(
        select(SM.status, SM.channel, SM.kind, func.count()).group_by(SM.status, SM.channel, SM.kind)
    )
    messages = {
        (str(status), str(channel) if channel is not None else "none", kind): count
        for status, channel, kind, count in rows
    }
    inbound_rows = await session.execute(
        select(MessageLog.channel, func.count())
        .where(MessageLog.direction == Direction.INBOUND)
        .group_by(MessageLog.channel)
    )
    oldest = await session.scalar(
        select(func.min(SM.due_at)).where(SM.status == MessageStatus.PENDING, SM.due_at <= now)
    )
    flagged = await session.scalar(
        select(func.count()).select_from(CheckIn).where(CheckIn.flagged, CheckIn.acknowledged_at.is_(None))
    )
    return OutboxCounts(
        messages=messages,
        inbound={str(channel): count for channel, count in inbound_rows},
        oldest_due_at=oldest,
        flagged_waiting=int(flagged or 0),
    )
