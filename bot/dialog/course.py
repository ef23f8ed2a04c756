"""A patient's course as the dialog changes it: stages, dose numbers, booking and reporting doses.

Owns the stages a patient picks at sign-up, how they map to dose numbers, and the writes of a course and
its doses (the label's rules themselves stay in `care`). Fact numbers are those of
shared/clinical-facts.md. Must not import `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.dialog import records
from bot.dialog.turn import Turn
from care.dose_schedule import project_doses
from care.formulation import Formulation, dose_kind
from storage.models import Dose, DoseStatus, TreatmentCourse

SOURCE_PATIENT = "patient"


class Stage(StrEnum):
    """Where a patient is in their course when they sign up (stored in `patient.stage`)."""

    NOT_STARTED = "not_started"  # no dose yet
    BETWEEN_INFUSIONS = "between_infusions"  # IV only: Infusion 1 given, Infusion 2 next (fact 1)
    SIX_MONTHLY = "six_monthly"  # on the 6-monthly doses (facts 2, 11)


def stages(formulation: Formulation) -> tuple[Stage, ...]:
    """Returns the stages offered for a formulation: the split first dose exists only for IV (facts 1, 11)."""
    if formulation is Formulation.IV:
        return (Stage.NOT_STARTED, Stage.BETWEEN_INFUSIONS, Stage.SIX_MONTHLY)
    return (Stage.NOT_STARTED, Stage.SIX_MONTHLY)


def last_dose_number(formulation: Formulation, stage: Stage) -> int | None:
    """Returns the number the patient's last dose gets, None before the first dose.

    Earlier doses are not asked for. On 6-monthly IV the last one counts as dose 3, the first 600 mg dose:
    the label's rules depend on a dose's kind (facts 2, 11, 25), not on how many came before.
    """
    if stage is Stage.NOT_STARTED:
        return None
    if stage is Stage.BETWEEN_INFUSIONS:
        return 1
    return 3 if formulation is Formulation.IV else 1


def next_dose_number(formulation: Formulation, stage: Stage) -> int:
    """Returns the number of the patient's next dose at sign-up."""
    last = last_dose_number(formulation, stage)
    return 1 if last is None else last + 1


def suggested_next(formulation: Formulation, given: list[datetime], tz: ZoneInfo) -> datetime:
    """Returns when the dose after the given ones is due by the label (facts 1-3, 11, 24, 25)."""
    return project_doses(formulation, given[0], given, len(given) + 1, tz)[-1].due_at


async def load(turn: Turn) -> tuple[TreatmentCourse | None, list[Dose]]:
    """Returns the patient's active course and its doses (none without a course)."""
    course = await records.active_course(turn.session, turn.patient.id)
    if course is None:
        return None, []
    return course, await records.course_doses(turn.session, course.id)


def known_given(doses: list[Dose]) -> list[tuple[int, datetime]]:
    """Returns (number, given_at) of the given doses, by number."""
    return [(dose.number, dose.given_at) for dose in records.given_doses(doses) if dose.given_at is not None]


async def start_course(turn: Turn, formulation: Formulation, started_at: datetime) -> TreatmentCourse:
    """Adds the patient's active course."""
    course = TreatmentCourse(
        patient_id=turn.patient.id, formulation=formulation, started_at=started_at, active=True
    )
    turn.session.add(course)
    await turn.session.flush()
    return course


def add_dose(
    turn: Turn,
    course: TreatmentCourse,
    number: int,
    *,
    planned_at: datetime,
    given_at: datetime | None = None,
    location: str | None = None,
) -> Dose:
    """Adds dose `number` to the course: given when `given_at` is set, planned otherwise."""
    kind = dose_kind(course.formulation, number)
    dose = Dose(
        course_id=course.id,
        number=number,
        kind=kind.value,
        amount_mg=kind.amount_mg,
        planned_at=planned_at,
        given_at=given_at,
        location=location,
        status=DoseStatus.GIVEN if given_at is not None else DoseStatus.PLANNED,
        source=SOURCE_PATIENT,
    )
    turn.session.add(dose)
    turn.replan = True
    return dose


def book(turn: Turn, course: TreatmentCourse, doses: list[Dose], starts_at: datetime) -> Dose:
    """Moves the next planned dose to `starts_at`, or plans the dose after the last one."""
    planned = records.planned_doses(doses)
    turn.replan = True
    if planned:
        planned[0].planned_at = starts_at
        planned[0].source = SOURCE_PATIENT
        return planned[0]
    number = max((dose.number for dose in doses), default=0) + 1
    return add_dose(turn, course, number, planned_at=starts_at)


def record_given(turn: Turn, course: TreatmentCourse, doses: list[Dose], given_at: datetime) -> Dose:
    """Marks the next planned dose given at `given_at`, or adds a given dose after the last one (fact 24)."""
    planned = records.planned_doses(doses)
    turn.replan = True
    if planned:
        dose = planned[0]
        dose.given_at = given_at
        dose.status = DoseStatus.GIVEN
        return dose
    number = max((dose.number for dose in doses), default=0) + 1
    return add_dose(turn, course, number, planned_at=given_at, given_at=given_at)
