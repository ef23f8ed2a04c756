"""The operators' queue: flagged, unacknowledged check-ins, most severe first; acknowledging is audited."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import alerts
from storage.models import AuditLog, CheckInLevel, Operator, OperatorRole
from tests.storage.builders import NOW, add_patient


async def _operator(session: AsyncSession) -> int:
    operator = Operator(
        email="nurse@clinic.test", password_hash="x", role=OperatorRole.OPERATOR, created_at=NOW
    )
    session.add(operator)
    await session.flush()
    return operator.id


async def test_the_queue_is_flagged_unacknowledged_rows_most_severe_first_then_oldest(
    session: AsyncSession,
) -> None:
    ana = await add_patient(session, display_name="Ana")
    add = alerts.add_check_in
    today = await add(session, patient_id=ana.id, level=CheckInLevel.CLINIC_TODAY, flagged=True, now=NOW)
    await add(session, patient_id=ana.id, level=CheckInLevel.FINE, flagged=False, now=NOW)
    later = NOW + timedelta(minutes=5)
    emergency = await add(session, patient_id=ana.id, level=CheckInLevel.EMERGENCY, flagged=True, now=later)
    now_ = await add(session, patient_id=ana.id, level=CheckInLevel.CLINIC_NOW, flagged=True, now=later)
    older_now = await add(session, patient_id=ana.id, level=CheckInLevel.CLINIC_NOW, flagged=True, now=NOW)

    queue = await alerts.open_alerts(session)

    assert [row.check_in.id for row in queue] == [emergency.id, older_now.id, now_.id, today.id]
    assert queue[0].patient.display_name == "Ana"
    assert [row.check_in.id for row in await alerts.open_alerts(session, limit=2)] == [
        emergency.id,
        older_now.id,
    ]


async def test_acknowledging_takes_a_row_off_the_queue_once_and_is_audited(session: AsyncSession) -> None:
    ana = await add_patient(session)
    operator_id = await _operator(session)
    row = await alerts.add_check_in(
        session,
        patient_id=ana.id,
        level=CheckInLevel.EMERGENCY,
        flagged=True,
        answer="can't breathe",
        now=NOW,
    )
    fine = await alerts.add_check_in(
        session, patient_id=ana.id, level=CheckInLevel.FINE, flagged=False, now=NOW
    )
    at = NOW + timedelta(minutes=3)

    assert await alerts.acknowledge(session, row.id, operator_id, "  called her, ambulance on its way ", at)
    assert not await alerts.acknowledge(session, row.id, operator_id, "again", at)  # already taken
    assert not await alerts.acknowledge(session, fine.id, operator_id, None, at)  # never flagged
    assert not await alerts.acknowledge(session, 999_999, operator_id, None, at)

    await session.refresh(row)
    assert (row.acknowledged_at, row.acknowledged_by_id, row.ack_note) == (
        at, operator_id, "called her, ambulance on its way",
    )  # fmt: skip
    assert await alerts.open_alerts(session) == []
    [audit] = list(await session.scalars(select(AuditLog)))
    assert (audit.action, audit.operator_id, audit.patient_id, audit.detail) == (
        "check_in_acknowledged", operator_id, ana.id, {"check_in_id": row.id},
    )  # fmt: skip


async def test_an_alert_not_sent_is_listed_until_marked_sent(session: AsyncSession) -> None:
    ana = await add_patient(session)
    row = await alerts.add_check_in(
        session, patient_id=ana.id, level=CheckInLevel.CLINIC_NOW, flagged=True, now=NOW
    )
    window = {"created_before": NOW + timedelta(minutes=10), "created_after": NOW - timedelta(days=1)}

    assert [found.id for found, _ in await alerts.unalerted(session, **window)] == [row.id]
    assert await alerts.mark_alerted(session, [row.id], NOW) == 1
    assert await alerts.mark_alerted(session, [row.id], NOW) == 0
    assert await alerts.unalerted(session, **window) == []


def test_a_nudges_key_names_the_check_in_it_is_about() -> None:
    assert alerts.nudge_key(812) == "check_in_nudge:812"
    assert alerts.nudged_message_id("check_in_nudge:812") == 812
    assert alerts.nudged_message_id("check_in_evening:3:2026-12-10") is None
    assert alerts.nudged_message_id("check_in_nudge:x") is None
