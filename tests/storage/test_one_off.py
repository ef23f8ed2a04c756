"""Messages a person writes: no plan rewrite cancels them, and their queued log row is completed on send."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import outbox, patients
from storage.models import Channel, MessageLog, MessageStatus, ScheduledMessage
from storage.outbox import ONE_OFF, NewMessage
from storage.plans import OFF_PLAN_KINDS
from tests.storage.builders import NOW, add_patient


async def _one_off(session: AsyncSession, patient_id: int) -> ScheduledMessage:
    row = ScheduledMessage(
        patient_id=patient_id,
        kind=ONE_OFF,
        dedupe_key="one_off:abc",
        due_at=NOW,
        status=MessageStatus.PENDING,
        attempts=0,
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(row)
    await session.flush()
    await patients.queue_text(
        session,
        patient_id=patient_id,
        channel=Channel.TELEGRAM,
        text="Floor 2",
        scheduled_message_id=row.id,
        now=NOW,
    )
    return row


async def test_a_plan_rewrite_leaves_a_one_off_due_now_but_pause_cancels_it(session: AsyncSession) -> None:
    patient = await add_patient(session)
    row = await _one_off(session, patient.id)
    plan = [NewMessage("reminder:1", "reminder", NOW)]
    report = await outbox.replace_pending(session, patient.id, plan, NOW, other_kinds=OFF_PLAN_KINDS)
    assert (report.inserted, report.cancelled) == (1, 0)
    await outbox.replace_pending(session, patient.id, [], NOW, other_kinds=OFF_PLAN_KINDS)  # plan drops all
    await session.refresh(row)
    assert row.status is MessageStatus.PENDING
    reminder = await session.scalar(
        select(ScheduledMessage).where(ScheduledMessage.dedupe_key == "reminder:1")
    )
    assert (
        reminder is not None and reminder.status is MessageStatus.CANCELLED
    )  # plan rows still follow the plan
    assert await outbox.cancel_pending(session, patient.id, NOW) == 1
    await session.refresh(row)
    assert row.status is MessageStatus.CANCELLED


async def test_sending_completes_the_queued_log_row_instead_of_adding_a_second(session: AsyncSession) -> None:
    patient = await add_patient(session)
    row = await _one_off(session, patient.id)
    assert await patients.queued_text(session, row.id) == "Floor 2"
    later = NOW.replace(minute=5)
    logged = await patients.log_outbound(
        session,
        patient_id=patient.id,
        channel=Channel.SMS,
        text="Floor 2",
        now=later,
        scheduled_message_id=row.id,
        provider_id="SM1",
    )
    entries = list(await session.scalars(select(MessageLog).where(MessageLog.scheduled_message_id == row.id)))
    assert entries == [logged]
    assert (logged.channel, logged.delivery_status, logged.provider_id, logged.created_at) == (
        Channel.SMS,
        None,
        "SM1",
        later,
    )
    assert await patients.queued_text(session, row.id) is None
    other = await patients.log_outbound(
        session, patient_id=patient.id, channel=Channel.SMS, text="x", now=later, scheduled_message_id=row.id
    )
    assert other.id != logged.id  # only a queued row is completed; a resend is its own row
