"""What an operator changes in a patient's course: the next appointment, and a dose given.

Owns the console's side of the label rules (`care.appointment_check`): a date that cannot be right is an
error; a warning is shown and the date is stored only once the operator confirms it (the clinic's date is the
truth). A dose recorded here re-anchors the plan exactly as the patient's own "I had my dose" does
(`bot.dialog.dose_commands`): the next planned dose becomes given, or a given dose is added after the last.
Each change, the outbox rewrite (`storage.plans.replan_patient`) and the audit row commit together.
Audit rows carry ids and issue codes, never dates or names. Must not import `bot`, `jobs` or `ocrebot`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin.accounts import audit
from admin.actions import Conflict, locked_patient
from admin.csv_io import NO_SUCH_TIME
from care.appointment_check import ScheduleError, ScheduleWarning, check_appointment
from care.dose_schedule import padded_given, project_doses
from care.formulation import Formulation, dose_kind
from care.plan import ReminderPlan
from care.wall_clock import resolve_wall, wall_exists
from storage import plans
from storage.models import Dose, DoseStatus, Patient, PatientStatus, TreatmentCourse

SOURCE_OPERATOR = "operator"
DONE_LOOKBACK = timedelta(days=366)  # as the patient's /done: older reports are typing mistakes
_EDITABLE = (PatientStatus.SIGNING_UP, PatientStatus.ACTIVE, PatientStatus.PAUSED)


class NeedsConfirmation(Exception):
    """The date breaks a label rule; nothing was stored. Send it again confirmed to book it anyway."""

    def __init__(self, warnings: list[ScheduleWarning]) -> None:
        super().__init__("; ".join(warning.message for warning in warnings))
        self.warnings = warnings


class BadDate(ValueError):
    """A date that cannot be accepted at all; `message` says why in one line."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Booked:
    """The dose now planned, and the warnings the operator confirmed."""

    dose_id: int
    number: int
    planned_at: datetime
    warnings: list[ScheduleWarning]


@dataclass(frozen=True)
class Given:
    """The dose recorded as given, and when the next one is due by the label (a suggestion only)."""

    dose_id: int
    number: int
    given_at: datetime
    suggested_next: datetime


async def set_appointment(
    sessions: async_sessionmaker[AsyncSession],
    patient_id: int,
    starts_at: datetime,
    location: str | None,
    *,
    confirm: bool,
    operator_id: int,
    plan: ReminderPlan,
    now: datetime,
) -> Booked:
    """Moves the next planned dose to `starts_at` (naive: the patient's wall time), or plans the dose after
    the last; BadDate, NeedsConfirmation, NotFound or Conflict when it cannot."""
    async with sessions() as session, session.begin():
        patient = await _patient(session, patient_id)
        course, doses = await _course(session, patient, now)
        formulation = Formulation(course.formulation)
        tz = ZoneInfo(patient.timezone)
        starts_at = in_zone(starts_at, tz)
        given = padded_given(formulation, _known_given(doses), tz)
        try:
            warnings = check_appointment(formulation, given, starts_at, tz, now)
        except ScheduleError as exc:
            raise BadDate(exc.message) from None
        if warnings and not confirm:
            raise NeedsConfirmation(warnings)
        planned = [dose for dose in doses if dose.status is DoseStatus.PLANNED]
        if planned:
            dose = planned[0]
            dose.planned_at = starts_at
            dose.location = location
            dose.source = SOURCE_OPERATOR
        else:
            number = max((dose.number for dose in doses), default=0) + 1
            dose = _new_dose(course, number, planned_at=starts_at, location=location)
            session.add(dose)
        await session.flush()
        await plans.replan_patient(session, patient_id, plan, now)
        await audit(
            session,
            now,
            operator_id=operator_id,
            patient_id=patient_id,
            action="patient.appointment",
            detail={"dose": dose.id, "number": dose.number, "warnings": [str(w.code) for w in warnings]},
        )
        return Booked(dose.id, dose.number, dose.planned_at, warnings)


async def record_dose(
    sessions: async_sessionmaker[AsyncSession],
    patient_id: int,
    given_at: datetime,
    *,
    operator_id: int,
    plan: ReminderPlan,
    now: datetime,
) -> Given:
    """Records a dose given at `given_at` and replans from it; BadDate, NotFound or Conflict if it cannot."""
    async with sessions() as session, session.begin():
        patient = await _patient(session, patient_id)
        given_at = in_zone(given_at, ZoneInfo(patient.timezone))
        if given_at > now:
            raise BadDate("is in the future")
        if given_at < now - DONE_LOOKBACK:
            raise BadDate("is more than a year ago")
        course, doses = await _course(session, patient, given_at)
        known = _known_given(doses)
        if known and given_at <= known[-1][1]:
            raise BadDate("is not after the last dose given")
        planned = [dose for dose in doses if dose.status is DoseStatus.PLANNED]
        if planned:  # as `bot.dialog.course.record_given`
            dose = planned[0]
            dose.given_at = given_at
            dose.status = DoseStatus.GIVEN
            dose.source = SOURCE_OPERATOR
        else:
            number = max((dose.number for dose in doses), default=0) + 1
            dose = _new_dose(course, number, planned_at=given_at, given_at=given_at)
            session.add(dose)
        await session.flush()
        await plans.replan_patient(session, patient_id, plan, now)
        await audit(
            session,
            now,
            operator_id=operator_id,
            patient_id=patient_id,
            action="patient.dose_given",
            detail={"dose": dose.id, "number": dose.number},
        )
        formulation = Formulation(course.formulation)
        tz = ZoneInfo(patient.timezone)
        padded = padded_given(formulation, [*known, (dose.number, given_at)], tz)
        suggestion = project_doses(formulation, padded[0], padded, len(padded) + 1, tz)[-1].due_at
        return Given(dose.id, dose.number, given_at, suggestion)


def in_zone(instant: datetime, tz: ZoneInfo) -> datetime:
    """Returns `instant` as UTC: a naive one is a wall time in `tz` (a form's datetime-local field).

    A wall time the clocks skip (spring forward) is a BadDate, as in the CSV import: nobody is booked at an
    hour they did not choose.
    """
    if instant.tzinfo is None:
        if not wall_exists(instant.date(), instant.time(), tz):
            raise BadDate(NO_SUCH_TIME.removeprefix("this time "))
        return resolve_wall(instant.date(), instant.time(), tz)
    return instant.astimezone(UTC)


async def _patient(session: AsyncSession, patient_id: int) -> Patient:
    patient = await locked_patient(session, patient_id)
    if patient.status not in _EDITABLE:
        raise Conflict(f"the patient is {patient.status.value}: their course cannot change")
    return patient


async def _course(
    session: AsyncSession, patient: Patient, started_at: datetime
) -> tuple[TreatmentCourse, list[Dose]]:
    """Returns the active course and its doses by number; starts one in the patient's formulation if none."""
    course = await session.scalar(
        select(TreatmentCourse)
        .where(TreatmentCourse.patient_id == patient.id, TreatmentCourse.active.is_(True))
        .order_by(TreatmentCourse.started_at.desc(), TreatmentCourse.id.desc())
        .limit(1)
    )
    if course is None:
        if patient.formulation is None:
            raise Conflict("the patient's formulation (IV or SC) is not known yet")
        course = TreatmentCourse(
            patient_id=patient.id, formulation=patient.formulation, started_at=started_at, active=True
        )
        session.add(course)
        await session.flush()
        return course, []
    doses = await session.scalars(select(Dose).where(Dose.course_id == course.id).order_by(Dose.number))
    return course, list(doses)


def _known_given(doses: list[Dose]) -> list[tuple[int, datetime]]:
    return [
        (dose.number, dose.given_at)
        for dose in doses
        if dose.status is DoseStatus.GIVEN and dose.given_at is not None
    ]


def _new_dose(
    course: TreatmentCourse,
    number: int,
    *,
    planned_at: datetime,
    given_at: datetime | None = None,
    location: str | None = None,
) -> Dose:
    kind = dose_kind(course.formulation, number)
    return Dose(
        course_id=course.id,
        number=number,
        kind=kind.value,
        amount_mg=kind.amount_mg,
        planned_at=planned_at,
        given_at=given_at,
        location=location,
        status=DoseStatus.GIVEN if given_at is not None else DoseStatus.PLANNED,
        source=SOURCE_OPERATOR,
    )
