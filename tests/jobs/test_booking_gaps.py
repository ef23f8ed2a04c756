"""Booking gaps: nothing booked 6 months after the last dose reaches the clinic twice; a booking clears it."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.alerts import Alert
from care.clock import FakeClock
from care.formulation import Formulation, dose_kind
from care.plan import ReminderPlan
from jobs.followups import run_followups
from storage.booking_gaps import CLEARED_ACTION, CLEARED_NOTE
from storage.models import (
    AuditLog,
    CheckIn,
    CheckInReason,
    Dose,
    DoseStatus,
    Patient,
    PatientStatus,
    ScheduledMessage,
    TreatmentCourse,
)
from storage.plans import replan_patient
from tests.jobs.builders import NOW, add_patient

MADRID = ZoneInfo("Europe/Madrid")
GIVEN = datetime(2026, 6, 10, 10, 0, tzinfo=MADRID)
SIX_MONTHS = datetime(2026, 12, 10, 10, 0, tzinfo=MADRID)


class Recorder:
    """Our own alert port's fake."""

    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    async def alert(self, alert: Alert) -> None:
        self.alerts.append(alert)


async def _patient_given(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan, given_at: datetime
) -> int:
    """An active Madrid patient whose dose 3 (600 mg) was given at `given_at`, nothing booked after it."""
    async with sessions() as session, session.begin():
        patient = await add_patient(session, chat_id=5151, display_name="Ana")
        course = TreatmentCourse(
            patient_id=patient.id, formulation=Formulation.IV, started_at=given_at - timedelta(days=400)
        )
        session.add(course)
        await session.flush()
        kind = dose_kind(Formulation.IV, 3)
        session.add(
            Dose(
                course_id=course.id,
                number=3,
                kind=str(kind),
                amount_mg=kind.amount_mg,
                planned_at=given_at,
                given_at=given_at,
                status=DoseStatus.GIVEN,
                source="clinic",
            )
        )
        await session.flush()
        await replan_patient(session, patient.id, plan, NOW)
        return patient.id


async def _flags(sessions: async_sessionmaker[AsyncSession]) -> list[CheckIn]:
    async with sessions() as session:
        query = select(CheckIn).where(CheckIn.reason == CheckInReason.BOOKING_GAP).order_by(CheckIn.id)
        return list(await session.scalars(query))


async def _run(sessions: async_sessionmaker[AsyncSession], alerter: Recorder, at: datetime) -> int:
    clock = FakeClock(at)
    return (await run_followups(sessions, clock, alerter, clock.now())).booking_gap


async def test_nothing_booked_gets_the_nudge_at_5_months_and_flags_at_6_months_and_2_weeks_later_once_each(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan
) -> None:
    alerter = Recorder()
    patient_id = await _patient_given(sessions, plan, GIVEN)
    async with sessions() as session:
        nudge = await session.scalar(select(ScheduledMessage).where(ScheduledMessage.kind == "booking_nudge"))
    assert nudge is not None and nudge.due_at.astimezone(MADRID) == datetime(
        2026, 11, 10, 10, 0, tzinfo=MADRID
    )

    assert await _run(sessions, alerter, SIX_MONTHS - timedelta(minutes=10)) == 0
    assert await _run(sessions, alerter, SIX_MONTHS) == 1
    assert await _run(sessions, alerter, SIX_MONTHS + timedelta(minutes=10)) == 0
    assert await _run(sessions, alerter, SIX_MONTHS + timedelta(days=13, hours=23)) == 0
    assert await _run(sessions, alerter, SIX_MONTHS + timedelta(days=14)) == 1
    assert await _run(sessions, alerter, SIX_MONTHS + timedelta(days=60)) == 0

    flags = await _flags(sessions)
    assert [(f.patient_id, f.flagged, f.acknowledged_at) for f in flags] == [(patient_id, True, None)] * 2
    assert [(a.reason, a.level, a.display_name) for a in alerter.alerts] == [
        ("booking_gap", "clinic_today", "Ana")
    ] * 2
    assert all(f.alerted_at is not None for f in flags)  # reached the ops channel too


async def test_an_appointment_entered_after_the_flag_clears_it_in_the_same_transaction(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan
) -> None:
    alerter = Recorder()
    patient_id = await _patient_given(sessions, plan, GIVEN)
    assert await _run(sessions, alerter, SIX_MONTHS) == 1
    booked_at = SIX_MONTHS + timedelta(days=1)
    async with sessions() as session, session.begin():
        course = await session.scalar(select(TreatmentCourse).where(TreatmentCourse.patient_id == patient_id))
        assert course is not None
        kind = dose_kind(Formulation.IV, 4)
        session.add(
            Dose(
                course_id=course.id,
                number=4,
                kind=str(kind),
                amount_mg=kind.amount_mg,
                planned_at=SIX_MONTHS + timedelta(days=8),
                status=DoseStatus.PLANNED,
                source="patient",
            )
        )
        await session.flush()
        await replan_patient(session, patient_id, plan, booked_at)  # what every booking path calls

    [flag] = await _flags(sessions)
    assert (flag.acknowledged_at, flag.acknowledged_by_id, flag.ack_note) == (booked_at, None, CLEARED_NOTE)
    async with sessions() as session:
        audit = await session.scalar(select(AuditLog).where(AuditLog.action == CLEARED_ACTION))
    assert (
        audit is not None and audit.patient_id == patient_id and audit.detail == {"check_in_ids": [flag.id]}
    )
    assert await _run(sessions, alerter, SIX_MONTHS + timedelta(days=14)) == 0  # booked: no second flag


async def test_a_booking_made_without_a_replan_is_cleared_by_the_next_run(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan
) -> None:
    alerter = Recorder()
    patient_id = await _patient_given(sessions, plan, GIVEN)
    assert await _run(sessions, alerter, SIX_MONTHS) == 1
    async with sessions() as session, session.begin():
        course = await session.scalar(select(TreatmentCourse).where(TreatmentCourse.patient_id == patient_id))
        assert course is not None
        kind = dose_kind(Formulation.IV, 4)
        session.add(
            Dose(
                course_id=course.id,
                number=4,
                kind=str(kind),
                amount_mg=kind.amount_mg,
                planned_at=SIX_MONTHS + timedelta(days=8),
                status=DoseStatus.PLANNED,
                source="clinic",
            )
        )

    clock = FakeClock(SIX_MONTHS + timedelta(hours=1))
    report = await run_followups(sessions, clock, alerter, clock.now())

    assert (report.booking_gap, report.booking_gap_cleared) == (0, 1)
    [flag] = await _flags(sessions)
    assert flag.ack_note == CLEARED_NOTE


async def test_a_dose_reported_given_late_moves_the_flags_with_it(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan
) -> None:
    alerter = Recorder()
    await _patient_given(sessions, plan, GIVEN + timedelta(days=20))  # given 20 days after it was planned

    assert await _run(sessions, alerter, SIX_MONTHS) == 0
    assert await _run(sessions, alerter, SIX_MONTHS + timedelta(days=19, hours=23)) == 0
    assert await _run(sessions, alerter, SIX_MONTHS + timedelta(days=20)) == 1


async def test_a_stopped_patient_is_never_flagged(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan
) -> None:
    alerter = Recorder()
    patient_id = await _patient_given(sessions, plan, GIVEN)
    async with sessions() as session, session.begin():
        patient = await session.get_one(Patient, patient_id)
        patient.status = PatientStatus.STOPPED

    assert await _run(sessions, alerter, SIX_MONTHS + timedelta(days=30)) == 0
    assert alerter.alerts == []
