"""Retention blanks old message texts and keeps the rows; newer texts and other tables are untouched."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs.retention import blank_old_texts
from storage.models import Channel, Direction, MessageLog
from tests.jobs.builders import NOW, add_patient


async def test_texts_past_the_retention_period_are_blanked_and_the_rows_stay(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        patient = await add_patient(session, chat_id=1)
        for age_days, text in ((181, "old words"), (179, "recent words"), (400, None)):
            session.add(
                MessageLog(
                    patient_id=patient.id,
                    channel=Channel.TELEGRAM,
                    direction=Direction.INBOUND,
                    text=text,
                    created_at=NOW - timedelta(days=age_days),
                    delivery_status="delivered",
                )
            )

    assert await blank_old_texts(sessions, NOW, days=180) == 1
    assert await blank_old_texts(sessions, NOW, days=180) == 0  # idempotent

    async with sessions() as session:
        rows = (await session.scalars(select(MessageLog).order_by(MessageLog.created_at))).all()
    assert [(row.text, row.delivery_status) for row in rows] == [
        (None, "delivered"),
        (None, "delivered"),
        ("recent words", "delivered"),
    ]
