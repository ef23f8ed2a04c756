"""A patient's reminder plan made real: the care schedule for their doses, written to the outbox.

Owns `replan_patient` (the one way plan rows are (re)written), `planned_for` (the same schedule, read at
send time to find a row's catch-up window), `JOB_MESSAGES` (rows jobs write outside the plan, by kind: how
long each is worth sending and the opt-in it needs; a replan leaves them alone) and the two outcomes the
plan decides for a claimed row rather than the provider: cancelled (the patient or plan no longer wants it)
and expired (its catch-up window passed).
Nothing here commits; the caller owns the transaction. Must not import `bot`, `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from care.catch_up import NUDGE_CATCH_UP
from care.dose_duration import expected_duration
from care.formulation import dose_kind
from care.message_schedule import Appointment, PlannedMessage, schedule_messages
from care.plan import ReminderPlan, TouchpointKind
from care.quiet_hours import QuietHours
from care.tips import TIP_KIND
from storage import alerts, booking_gaps, outbox, tips
from storage.models import (
    Dose,
    DoseStatus,
    MessageStatus,
    Patient,
    PatientStatus,
    ScheduledMessage,
    TreatmentCourse,
)
from storage.outbox import NewMessage, ReplaceReport

# A dose already given keeps only its check-ins: its reminders are past and it needs no confirmation.
_KINDS_AFTER_GIVEN = frozenset({TouchpointKind.CHECK_IN})


@dataclass(frozen=True)
class JobMessage:
    """A kind of row a job writes outside the plan: `catch_up` after its due time it is no longer worth
    sending; `opt_in` names the boolean patient column that must still be true when it goes (or None)."""

    catch_up: timedelta
    opt_in: str | None = None


# Kinds without a plan touchpoint, written by jobs: how long each is worth sending (`care.catch_up`).
JOB_MESSAGES: dict[str, JobMessage] = {
    TIP_KIND: JobMessage(catch_up=timedelta(days=2), opt_in="weekly_tips"),  # jobs.tips: one a week
    alerts.NUDGE_KIND: JobMessage(catch_up=NUDGE_CATCH_UP),  # jobs.followups: one per unanswered check-in
}

# Kinds no plan writes (a job's tip or check-in nudge, an operator's one-off, an SMS confirmation request): a
# replan never cancels them; pause, stop and erase still do.
OFF_PLAN_KINDS = frozenset({*JOB_MESSAGES, *outbox.QUEUED_TEXT_KINDS})


@dataclass(frozen=True)
class PlanItem:
    """One message of a patient's schedule, with the dose it is about (the last given one for the nudge)."""

    message: PlannedMessage
    dose_id: int | None


async def replan_patient(
    session: AsyncSession, patient_id: int, plan: ReminderPlan, now: datetime
) -> ReplaceReport:
    """Rewrites the patient's pending outbox rows from their current data; idempotent, never commits.

    Call it inside the transaction that changed any of what the plan reads: sign-up done (status becomes
    active), an appointment booked, moved or cancelled, a dose reported given (or missed), the time zone,
    quiet hours, formulation or language changed, pause, resume, stop, and erasure. A booked appointment
    after the last dose clears the patient's open booking-gap flags (`storage.booking_gaps`).
    An active patient gets one row per message of `care.message_schedule.schedule_messages` whose
    `catch_up_until` is still ahead of `now` (planned doses anchored on `planned_at`; given doses keep
    their check-ins, anchored on `given_at`; the booking nudge anchored on the last dose given). Pending rows
    the plan no longer has are cancelled; rows already claimed or sent are never touched (`storage.outbox`).
    A patient who is not active (signing up, paused, stopped, erased) gets every pending row cancelled.
    Pending weekly tips are not plan rows and stay; an opted-in active patient's next tip is planned again
    (`storage.tips.plan_next_tip`), so it follows a resume, a time-zone or a quiet-hours change at once.
    Raises LookupError when the patient does not exist.
    """
    patient = await session.scalar(
        select(Patient)
        .where(Patient.id == patient_id)
        .with_for_update()  # serializes with other rewrites and with status changes (PostgreSQL)
        .execution_options(populate_existing=True)
    )
    if patient is None:
        raise LookupError(f"patient {patient_id} does not exist")
    if patient.status is not PatientStatus.ACTIVE:
        return ReplaceReport(cancelled=await outbox.cancel_pending(session, patient_id, now))
    await booking_gaps.clear_if_booked(session, patient_id, now)  # an appointment after the last dose
    items = [item for item in await planned_for(session, patient, plan) if item.message.catch_up_until > now]
    new = [
        NewMessage(
            dedupe_key=item.message.dedupe_key,
            kind=str(item.message.kind),
            due_at=item.message.due_at,
            touchpoint_id=item.message.touchpoint_id,
            dose_id=item.dose_id,
        )
        for item in items
    ]
    report = await outbox.replace_pending(session, patient_id, new, now, other_kinds=OFF_PLAN_KINDS)
    if patient.weekly_tips:  # resumed, or moved to another time zone or quiet hours: the tip follows at once
        await tips.plan_next_tip(session, patient, plan.quiet_hours, now, slot=plan.tip_slot)
    return report


async def planned_for(session: AsyncSession, patient: Patient, plan: ReminderPlan) -> list[PlanItem]:
    """Returns the patient's whole schedule from their active course, past messages included, due order."""
    course = await session.scalar(
        select(TreatmentCourse)
        .where(TreatmentCourse.patient_id == patient.id, TreatmentCourse.active.is_(True))
        .order_by(TreatmentCourse.started_at.desc(), TreatmentCourse.id.desc())
        .limit(1)
    )
    if course is None:
        return []
    doses = list(
        await session.scalars(
            select(Dose)
            .where(Dose.course_id == course.id, Dose.status.in_((DoseStatus.PLANNED, DoseStatus.GIVEN)))
            .order_by(Dose.number)
        )
    )
    tz = ZoneInfo(patient.timezone)
    quiet = _quiet_hours(patient)
    planned = [dose for dose in doses if dose.status is DoseStatus.PLANNED]
    given = [dose for dose in doses if dose.status is DoseStatus.GIVEN]
    last_given = max(given, key=_given_at, default=None)
    items: list[PlanItem] = []
    # The booking nudge is decided from every appointment at once, so planned doses go in one call.
    appointments = [_appointment(course, dose, dose.planned_at) for dose in planned]
    by_number = {dose.number: dose.id for dose in planned}
    for message in schedule_messages(
        plan, appointments, None if last_given is None else _given_at(last_given), tz, quiet
    ):
        dose_id = by_number.get(message.dose_number) if message.dose_number is not None else None
        if message.kind is TouchpointKind.BOOKING_NUDGE and last_given is not None:
            dose_id = last_given.id
        items.append(PlanItem(message, dose_id))
    for dose in given:
        for message in schedule_messages(
            plan, [_appointment(course, dose, _given_at(dose))], None, tz, quiet
        ):
            if message.kind in _KINDS_AFTER_GIVEN:
                items.append(PlanItem(message, dose.id))
    return sorted(items, key=lambda item: (item.message.due_at, item.message.dedupe_key))


async def catch_up_until(
    session: AsyncSession, patient: Patient, plan: ReminderPlan, dedupe_key: str
) -> datetime | None:
    """Returns until when the planned message with this key is worth sending, or None if no longer planned."""
    for item in await planned_for(session, patient, plan):
        if item.message.dedupe_key == dedupe_key:
            return item.message.catch_up_until
    return None


async def planned_with_schedule(
    session: AsyncSession, patient: Patient, plan: ReminderPlan, dedupe_key: str
) -> tuple[PlannedMessage | None, list[PlannedMessage]]:
    """Returns the planned message with this key (None if no longer planned) and the patient's schedule."""
    schedule = [item.message for item in await planned_for(session, patient, plan)]
    return next((m for m in schedule if m.dedupe_key == dedupe_key), None), schedule


async def cancel_claimed(session: AsyncSession, message_id: int, reason: str, now: datetime) -> bool:
    """Ends a claimed row as cancelled, never sent (the patient paused or the plan dropped it)."""
    return await _close_claimed(session, message_id, MessageStatus.CANCELLED, reason, now)


async def expire_claimed(session: AsyncSession, message_id: int, reason: str, now: datetime) -> bool:
    """Ends a claimed row as expired, never sent (its catch-up window passed)."""
    return await _close_claimed(session, message_id, MessageStatus.EXPIRED, reason, now)


async def _close_claimed(
    session: AsyncSession, message_id: int, status: MessageStatus, reason: str, now: datetime
) -> bool:
    result = await session.execute(
        update(ScheduledMessage)
        .where(ScheduledMessage.id == message_id, ScheduledMessage.status == MessageStatus.CLAIMED)
        .values(status=status, last_error=reason, lease_until=None, updated_at=now)
    )
    return int(result.rowcount) == 1


def quiet_hours_of(patient: Patient, plan: ReminderPlan) -> QuietHours:
    """Returns the quiet hours in force for the patient: their own, else the plan's."""
    return _quiet_hours(patient) or plan.quiet_hours


def _quiet_hours(patient: Patient) -> QuietHours | None:
    if patient.quiet_hours_start is None or patient.quiet_hours_end is None:
        return None  # the plan's own
    return QuietHours(patient.quiet_hours_start, patient.quiet_hours_end)


def _given_at(dose: Dose) -> datetime:
    return dose.given_at or dose.planned_at


def _appointment(course: TreatmentCourse, dose: Dose, starts_at: datetime) -> Appointment:
    return Appointment(
        dose_number=dose.number,
        kind=dose_kind(course.formulation, dose.number),
        starts_at=starts_at,
        duration=expected_duration(course.formulation, dose.number),
    )
