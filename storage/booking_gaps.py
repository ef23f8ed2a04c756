"""Booking gaps in the database: patients with nothing booked after their last dose, their flags, clearing.

Owns `gaps` (each active or paused patient, sandbox left out, whose active course has a given dose and no
planned dose after it, with the dose the next is counted from and how many booking-gap flags it has),
`add_flag` (a flagged check-in row, reason booking_gap, about that dose) and `clear_if_booked` (once an
appointment after the last dose is entered or confirmed, its open booking-gap flags are acknowledged by the
system, audited). Nothing here commits; the caller owns the transaction.
Must not import `bot`, `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from care.booking_gap import GivenDose, counted_from
from care.formulation import DoseKind
from storage import alerts
from storage.models import (
    ActorType,
    AuditLog,
    CheckIn,
    CheckInLevel,
    CheckInReason,
    Dose,
    DoseStatus,
    Patient,
    PatientStatus,
    TreatmentCourse,
)

CLEARED_NOTE = "cleared: the next dose is booked"
CLEARED_ACTION = "booking_gap_cleared"


@dataclass(frozen=True)
class Gap:
    """A patient with nothing booked after `anchor_at`; `dose_id` is their last dose given."""

    patient: Patient
    dose_id: int
    anchor_at: datetime
    raised: int


async def gaps(session: AsyncSession) -> list[Gap]:
    """Returns every patient whose next dose is not booked, with the flags raised about their last dose."""
    rows = await session.execute(
        select(Patient, Dose)
        .join(TreatmentCourse, TreatmentCourse.patient_id == Patient.id)
        .join(Dose, Dose.course_id == TreatmentCourse.id)
        .where(
            TreatmentCourse.active.is_(True),
            Patient.sandbox.is_(False),
            Patient.status.in_((PatientStatus.ACTIVE, PatientStatus.PAUSED)),
            Dose.status.in_((DoseStatus.GIVEN, DoseStatus.PLANNED)),
        )
        .order_by(Patient.id, Dose.number)
    )
    doses: dict[int, tuple[Patient, list[Dose]]] = {}
    for patient, dose in rows.all():
        doses.setdefault(patient.id, (patient, []))[1].append(dose)
    found = []
    for patient, course_doses in doses.values():
        given = [dose for dose in course_doses if dose.status is DoseStatus.GIVEN]
        if not given:
            continue
        last = max(given, key=_given_at)
        if any(d.status is DoseStatus.PLANNED and d.planned_at > _given_at(last) for d in course_doses):
            continue
        anchor = counted_from([GivenDose(DoseKind(d.kind), _given_at(d)) for d in given])
        if anchor is None:
            continue
        raised = await session.scalar(
            select(func.count())
            .select_from(CheckIn)
            .where(CheckIn.reason == CheckInReason.BOOKING_GAP, CheckIn.dose_id == last.id)
        )
        found.append(Gap(patient, last.id, anchor, int(raised or 0)))
    return found


async def add_flag(session: AsyncSession, gap: Gap, now: datetime) -> CheckIn:
    """Adds the booking-gap flag about the gap's last dose (an operator's queue row; the caller alerts)."""
    return await alerts.add_check_in(
        session,
        patient_id=gap.patient.id,
        dose_id=gap.dose_id,
        level=CheckInLevel.CLINIC_TODAY,
        flagged=True,
        reason=CheckInReason.BOOKING_GAP,
        now=now,
    )


async def clear_if_booked(session: AsyncSession, patient_id: int, now: datetime) -> int:
    """Acknowledges the patient's open booking-gap flags once a dose is planned after the last one given."""
    open_ids = list(
        await session.scalars(
            select(CheckIn.id).where(
                CheckIn.patient_id == patient_id,
                CheckIn.reason == CheckInReason.BOOKING_GAP,
                CheckIn.flagged.is_(True),
                CheckIn.acknowledged_at.is_(None),
            )
        )
    )
    if not open_ids or not await _booked(session, patient_id):
        return 0
    await session.execute(
        update(CheckIn)
        .where(CheckIn.id.in_(open_ids), CheckIn.acknowledged_at.is_(None))
        .values(acknowledged_at=now, ack_note=CLEARED_NOTE),
        execution_options={"synchronize_session": "fetch"},
    )
    session.add(
        AuditLog(
            at=now,
            actor_type=ActorType.SYSTEM,
            patient_id=patient_id,
            action=CLEARED_ACTION,
            detail={"check_in_ids": open_ids},
        )
    )
    await session.flush()
    return len(open_ids)


async def _booked(session: AsyncSession, patient_id: int) -> bool:
    doses = list(
        await session.scalars(
            select(Dose)
            .join(TreatmentCourse, TreatmentCourse.id == Dose.course_id)
            .where(
                TreatmentCourse.patient_id == patient_id,
                TreatmentCourse.active.is_(True),
                Dose.status.in_((DoseStatus.GIVEN, DoseStatus.PLANNED)),
            )
        )
    )
    given = [dose for dose in doses if dose.status is DoseStatus.GIVEN]
    last = max((_given_at(dose) for dose in given), default=None)
    return any(d.status is DoseStatus.PLANNED and (last is None or d.planned_at > last) for d in doses)


def _given_at(dose: Dose) -> datetime:
    return dose.given_at or dose.planned_at
