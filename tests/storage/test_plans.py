"""Replanning a patient: the care schedule lands in the outbox, follows each change, never rewrites sends."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from care.formulation import Formulation, dose_kind
from care.plan import ReminderPlan, load_plan
from storage import outbox
from storage.models import (
    Dose,
    DoseStatus,
    MessageStatus,
    Patient,
    PatientStatus,
    ScheduledMessage,
    TreatmentCourse,
)
from storage.outbox import ReplaceReport
from storage.plans import replan_patient
from tests.storage.builders import NOW, add_patient

MADRID = ZoneInfo("Europe/Madrid")
NEW_YORK = ZoneInfo("America/New_York")
APPOINTMENT = datetime(2026, 12, 10, 14, 0, tzinfo=UTC)  # 15:00 in Madrid, 09:00 in New York
APPOINTMENT_TOUCHPOINTS = {
    "reminder_7_days",
    "reminder_day_before",
    "reminder_morning_of",
    "check_in_evening",
    "check_in_24_hours",
    "dose_confirm",
}
REMINDERS = ("reminder_7_days", "reminder_day_before", "reminder_morning_of")


@pytest.fixture(scope="module")
def plan() -> ReminderPlan:
    return load_plan()


async def add_course(
    session: AsyncSession, patient: Patient, formulation: Formulation = Formulation.IV
) -> int:
    course = TreatmentCourse(
        patient_id=patient.id, formulation=formulation, started_at=NOW - timedelta(days=400)
    )
    session.add(course)
    await session.flush()
    return course.id


async def add_dose(
    session: AsyncSession, course_id: int, number: int, planned_at: datetime, given_at: datetime | None = None
) -> Dose:
    kind = dose_kind(Formulation.IV, number)
    dose = Dose(
        course_id=course_id,
        number=number,
        kind=str(kind),
        amount_mg=kind.amount_mg,
        planned_at=planned_at,
        given_at=given_at,
        status=DoseStatus.GIVEN if given_at else DoseStatus.PLANNED,
        source="clinic",
    )
    session.add(dose)
    await session.flush()
    return dose


async def rows(session: AsyncSession, status: MessageStatus | None = None) -> dict[str, ScheduledMessage]:
    """The patient's rows by touchpoint, optionally only those in `status` (one patient per test)."""
    query = (
        select(ScheduledMessage).execution_options(populate_existing=True).order_by(ScheduledMessage.due_at)
    )
    if status is not None:
        query = query.where(ScheduledMessage.status == status)
    return {row.touchpoint_id or row.kind: row for row in await session.scalars(query)}


def local(instant: datetime, tz: ZoneInfo) -> tuple[date, time]:
    """The local date and wall-clock time of an instant in `tz`."""
    at = instant.astimezone(tz)
    return at.date(), at.time()


async def booked_patient(
    session: AsyncSession, plan: ReminderPlan, now: datetime = NOW
) -> tuple[Patient, Dose]:
    """A Madrid patient on 6-monthly IV doses with dose 3 booked, replanned once at `now`."""
    patient = await add_patient(session)
    course_id = await add_course(session, patient)
    await add_dose(
        session, course_id, 2, APPOINTMENT - timedelta(days=180), APPOINTMENT - timedelta(days=180)
    )
    dose = await add_dose(session, course_id, 3, APPOINTMENT)
    await replan_patient(session, patient.id, plan, now)
    return patient, dose


async def test_a_booked_appointment_gets_its_reminders_and_check_ins(
    session: AsyncSession, plan: ReminderPlan
) -> None:
    patient, dose = await booked_patient(session, plan)

    pending = await rows(session, MessageStatus.PENDING)
    assert set(pending) == APPOINTMENT_TOUCHPOINTS  # a dose is booked after the last one: no booking nudge
    assert {row.dose_id for row in pending.values()} == {dose.id}
    assert {row.patient_id for row in pending.values()} == {patient.id}
    assert local(pending["reminder_day_before"].due_at, MADRID) == (date(2026, 12, 9), time(18))
    assert pending["reminder_day_before"].kind == "reminder"
    assert pending["reminder_day_before"].dedupe_key == "reminder_day_before:3:20261210T140000Z"
    assert pending["check_in_24_hours"].kind == "check_in"
    assert await replan_patient(session, patient.id, plan, NOW) == ReplaceReport(unchanged=6)


async def test_a_time_zone_change_keeps_the_wall_clock_times_in_the_new_zone(
    session: AsyncSession, plan: ReminderPlan
) -> None:
    patient, _ = await booked_patient(session, plan)
    before = {key: (row.id, row.due_at) for key, row in (await rows(session, MessageStatus.PENDING)).items()}

    patient.timezone = "America/New_York"
    report = await replan_patient(session, patient.id, plan, NOW)

    after = await rows(session, MessageStatus.PENDING)
    assert set(after) == APPOINTMENT_TOUCHPOINTS
    for touchpoint in REMINDERS:
        assert local(after[touchpoint].due_at, NEW_YORK) == local(before[touchpoint][1], MADRID)
        assert after[touchpoint].due_at - before[touchpoint][1] == timedelta(hours=6), touchpoint
    assert {key: row.id for key, row in after.items()} == {key: row_id for key, (row_id, _) in before.items()}
    assert report.updated >= len(REMINDERS)
    assert report.updated + report.unchanged == len(APPOINTMENT_TOUCHPOINTS)


async def test_a_reminder_already_sent_is_not_sent_again_after_a_move_west(
    session: AsyncSession, plan: ReminderPlan
) -> None:
    patient, _ = await booked_patient(session, plan)
    first = (await rows(session))["reminder_day_before"]
    claimed = await outbox.claim_due(session, first.due_at, limit=10, worker_id="w", lease_s=60)
    assert first.id in {row.id for row in claimed}
    assert await outbox.mark_sent(session, first.id, "1:1", first.due_at)

    patient.timezone = "America/New_York"  # 18:00 there is six hours later, still in the future
    report = await replan_patient(session, patient.id, plan, first.due_at)

    assert report.inserted == 0 and report.kept >= 1
    assert "reminder_day_before" not in await rows(session, MessageStatus.PENDING)


async def test_sent_rows_never_change_when_the_plan_does(session: AsyncSession, plan: ReminderPlan) -> None:
    patient, dose = await booked_patient(session, plan)
    first = (await rows(session))["reminder_7_days"]
    sent_at = first.due_at
    [claimed] = await outbox.claim_due(session, sent_at, limit=10, worker_id="w", lease_s=60)
    assert claimed.id == first.id
    assert await outbox.mark_sent(session, claimed.id, "1:1", sent_at)

    patient.timezone = "America/New_York"
    dose.planned_at = APPOINTMENT + timedelta(days=1)
    await replan_patient(session, patient.id, plan, sent_at)
    patient.status = PatientStatus.PAUSED
    await replan_patient(session, patient.id, plan, sent_at)

    sent = (await session.scalars(select(ScheduledMessage).where(ScheduledMessage.id == first.id))).one()
    await session.refresh(sent)
    assert (sent.status, sent.due_at, sent.sent_at) == (MessageStatus.SENT, sent_at, sent_at)
    assert sent.dedupe_key == first.dedupe_key


async def test_pause_cancels_every_pending_row_and_resume_restores_them(
    session: AsyncSession, plan: ReminderPlan
) -> None:
    patient, _ = await booked_patient(session, plan)
    planned = {key: row.due_at for key, row in (await rows(session)).items()}

    patient.status = PatientStatus.PAUSED
    assert await replan_patient(session, patient.id, plan, NOW) == ReplaceReport(cancelled=6)
    assert await rows(session, MessageStatus.PENDING) == {}

    patient.status = PatientStatus.ACTIVE
    assert await replan_patient(session, patient.id, plan, NOW) == ReplaceReport(updated=6)
    restored = await rows(session, MessageStatus.PENDING)
    assert {key: row.due_at for key, row in restored.items()} == planned


@pytest.mark.parametrize("status", [PatientStatus.STOPPED, PatientStatus.ERASED, PatientStatus.SIGNING_UP])
async def test_a_patient_who_is_not_active_gets_nothing(
    session: AsyncSession, plan: ReminderPlan, status: PatientStatus
) -> None:
    patient, _ = await booked_patient(session, plan)
    patient.status = status
    assert await replan_patient(session, patient.id, plan, NOW) == ReplaceReport(cancelled=6)
    assert await replan_patient(session, patient.id, plan, NOW) == ReplaceReport()


async def test_a_dose_reported_given_re_anchors_the_booking_nudge(
    session: AsyncSession, plan: ReminderPlan
) -> None:
    patient, dose = await booked_patient(session, plan)
    after_dose = APPOINTMENT + timedelta(days=1)
    dose.status, dose.given_at = DoseStatus.GIVEN, APPOINTMENT
    await replan_patient(session, patient.id, plan, after_dose)

    pending = await rows(session, MessageStatus.PENDING)
    nudge = pending["booking_nudge"]
    assert local(nudge.due_at, MADRID) == (date(2027, 5, 10), time(10))  # 5 months after, at 10:00
    assert nudge.dose_id == dose.id
    assert "dose_confirm" not in pending  # the dose is confirmed: no need to ask

    dose.given_at = APPOINTMENT + timedelta(days=7)  # the patient corrects the date
    report = await replan_patient(session, patient.id, plan, after_dose)

    assert report.inserted >= 1
    moved = (await rows(session, MessageStatus.PENDING))["booking_nudge"]
    assert local(moved.due_at, MADRID) == (date(2027, 5, 17), time(10))
    assert (await session.get(ScheduledMessage, nudge.id)).status is MessageStatus.CANCELLED


async def test_a_dose_reported_given_keeps_its_check_ins(session: AsyncSession, plan: ReminderPlan) -> None:
    patient, dose = await booked_patient(session, plan)
    before = await rows(session, MessageStatus.PENDING)
    dose.status, dose.given_at = DoseStatus.GIVEN, APPOINTMENT  # the clinic records it the same day
    await replan_patient(session, patient.id, plan, APPOINTMENT + timedelta(hours=1))
    after = await rows(session, MessageStatus.PENDING)
    for touchpoint in ("check_in_evening", "check_in_24_hours"):
        assert after[touchpoint].id == before[touchpoint].id


async def test_messages_past_their_catch_up_window_are_not_planned(
    session: AsyncSession, plan: ReminderPlan
) -> None:
    late = APPOINTMENT - timedelta(hours=12)  # booked late: the 7-day reminder is no longer worth sending
    await booked_patient(session, plan, late)
    pending = await rows(session, MessageStatus.PENDING)
    assert set(pending) == APPOINTMENT_TOUCHPOINTS - {"reminder_7_days"}
    assert pending["reminder_day_before"].due_at < late  # overdue but still worth sending until the start


async def test_replanning_an_unknown_patient_is_an_error(session: AsyncSession, plan: ReminderPlan) -> None:
    with pytest.raises(LookupError, match="patient 999"):
        await replan_patient(session, 999, plan, NOW)
