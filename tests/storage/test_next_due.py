"""The dispatcher's next wake: `next_due_at` reads two partial indexes and answers what a scan of every
pending row answers."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import and_, case, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import outbox
from storage.models import MessageStatus, ScheduledMessage
from tests.storage.builders import NOW, add_patient

SM = ScheduledMessage
MINUTE = timedelta(minutes=1)

# (status, due_at in minutes from NOW, next_attempt_at in minutes from due_at or None): small ranges, so
# rows share instants and retries land before, on and after their due time
ROWS = st.lists(
    st.tuples(
        st.sampled_from(MessageStatus),
        st.integers(-20, 20),
        st.none() | st.integers(-20, 20),
    ),
    max_size=12,
)


async def full_scan_next_due_at(session: AsyncSession) -> datetime | None:
    """The formula before migration 0006: the least of (retry time if later, else due time) over every
    pending row."""
    claimable_at = case(
        (and_(SM.next_attempt_at.is_not(None), SM.next_attempt_at > SM.due_at), SM.next_attempt_at),
        else_=SM.due_at,
    )
    found: datetime | None = await session.scalar(
        select(func.min(claimable_at)).where(SM.status == MessageStatus.PENDING)
    )
    return found


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=ROWS)
async def test_next_due_at_answers_what_a_scan_of_every_pending_row_answers(
    sessions: async_sessionmaker[AsyncSession], rows: list[tuple[MessageStatus, int, int | None]]
) -> None:
    async with sessions() as session:  # never committed: each example starts from an empty table
        patient = await add_patient(session)
        values = [
            {
                "patient_id": patient.id,
                "kind": "reminder",
                "dedupe_key": f"row:{n}",
                "status": status,
                "due_at": NOW + due_min * MINUTE,
                "next_attempt_at": None if retry_min is None else NOW + (due_min + retry_min) * MINUTE,
                "created_at": NOW,
                "updated_at": NOW,
            }
            for n, (status, due_min, retry_min) in enumerate(rows)
        ]
        if values:
            await session.execute(insert(SM), values)
        assert await outbox.next_due_at(session) == await full_scan_next_due_at(session)


async def test_early_rows_waiting_on_a_retry_neither_hide_nor_delay_a_later_due_row(
    session: AsyncSession,
) -> None:
    patient = await add_patient(session)
    waiting = [
        {
            "patient_id": patient.id,
            "kind": "reminder",
            "dedupe_key": f"outage:{n}",
            "status": MessageStatus.PENDING,
            "due_at": NOW - n * MINUTE,
            "next_attempt_at": NOW + 30 * MINUTE,
            "created_at": NOW,
            "updated_at": NOW,
        }
        for n in range(500)
    ]
    await session.execute(insert(SM), waiting)
    assert await outbox.next_due_at(session) == NOW + 30 * MINUTE
    await session.execute(
        insert(SM),
        [{**waiting[0], "dedupe_key": "fresh", "due_at": NOW + 10 * MINUTE, "next_attempt_at": None}],
    )
    assert await outbox.next_due_at(session) == NOW + 10 * MINUTE
