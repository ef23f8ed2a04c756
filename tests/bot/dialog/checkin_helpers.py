"""Helpers for the check-in tests: a signed-up patient whose check-in (or dose confirmation) went out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.alerts import Alert
from storage.models import CheckIn, MessageStatus, Patient, ScheduledMessage
from tests.bot.dialog.helpers import Chat, patient_of, sign_up

DOSE_AT = datetime(2027, 3, 12, 8, 30, tzinfo=UTC)  # 09:30 in Madrid: the dose `sign_up` books
EVENING = datetime(2027, 3, 12, 18, 0, tzinfo=UTC)  # 19:00 in Madrid: the evening check-in goes out


@dataclass
class RecordingAlerter:
    """Our own port's fake: records alerts, and what the database held when each came (after the commit?)."""

    sessions: async_sessionmaker[AsyncSession]
    alerts: list[Alert] = field(default_factory=list)
    stored_when_alerted: list[bool] = field(default_factory=list)

    async def alert(self, alert: Alert) -> None:
        async with self.sessions() as session:  # a different connection: sees only committed rows
            row = await session.get(CheckIn, alert.check_in_id)
            self.stored_when_alerted.append(row is not None)
        self.alerts.append(alert)


class FailingAlerter:
    """An alerter whose channel is down."""

    def __init__(self) -> None:
        self.calls = 0

    async def alert(self, alert: Alert) -> None:
        self.calls += 1
        raise ConnectionError("ops chat unreachable")


async def signed_up(chat: Chat, sessions: async_sessionmaker[AsyncSession], **patient: Any) -> Patient:
    """Signs up (Madrid, IV, dose on 12 March 2027 09:30) and applies `patient` changes to the row."""
    await sign_up(chat)
    found = await patient_of(sessions, chat.address, chat.channel)
    if patient:
        async with sessions() as session, session.begin():
            await session.execute(update(Patient).where(Patient.id == found.id).values(**patient))
    return await patient_of(sessions, chat.address, chat.channel)


async def mark_sent(
    sessions: async_sessionmaker[AsyncSession], patient_id: int, touchpoint_id: str, at: datetime
) -> int:
    """Marks the patient's planned row of a touchpoint as sent at `at` (what the dispatcher does); its id."""
    async with sessions() as session, session.begin():
        row = await session.scalar(
            select(ScheduledMessage)
            .where(ScheduledMessage.patient_id == patient_id, ScheduledMessage.touchpoint_id == touchpoint_id)
            .order_by(ScheduledMessage.id.desc())
            .limit(1)
        )
        assert row is not None, touchpoint_id
        row.status, row.sent_at, row.updated_at = MessageStatus.SENT, at, at
        return row.id


async def check_ins(sessions: async_sessionmaker[AsyncSession]) -> list[CheckIn]:
    """Every check-in row, oldest first."""
    async with sessions() as session:
        return list(await session.scalars(select(CheckIn).order_by(CheckIn.id)))


async def message(sessions: async_sessionmaker[AsyncSession], message_id: int) -> ScheduledMessage:
    """An outbox row as stored now."""
    async with sessions() as session:
        return await session.get_one(ScheduledMessage, message_id)
