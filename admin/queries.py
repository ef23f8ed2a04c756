"""What the console and the API read: patient search, one patient's record, the dashboard's lists.

Read-only; each function runs in the caller's session. Must not import `bot`, `jobs` or `ocrebot`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from care.formulation import Formulation
from storage import alerts
from storage.models import (
    AuditLog,
    ChannelAddress,
    CheckIn,
    Dose,
    DoseStatus,
    MessageLog,
    MessageStatus,
    Patient,
    PatientStatus,
    ScheduledMessage,
    TreatmentCourse,
)

TROUBLE = (MessageStatus.FAILED, MessageStatus.UNCERTAIN)
TROUBLE_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class PatientPage:
    """One page of a patient search, and how many match in all."""

    patients: list[Patient]
    channels: dict[int, list[ChannelAddress]]
    total: int


@dataclass(frozen=True)
class PatientRecord:
    """Everything the patient page shows."""

    patient: Patient
    addresses: list[ChannelAddress]
    doses: list[Dose]
    messages: list[tuple[ScheduledMessage, str | None]]  # each outbox row and the text that went out
    check_ins: list[CheckIn]
    log: list[MessageLog]
    events: list[AuditLog] = field(default_factory=list)  # channel switches and actions, newest first


@dataclass(frozen=True)
class Appointment:
    """A planned dose on the dashboard."""

    dose: Dose
    patient: Patient


@dataclass(frozen=True)
class Dashboard:
    """The dashboard's lists: appointments today and this week, open alerts, troubled deliveries."""

    today: list[Appointment]
    week: list[Appointment]
    alerts: list[alerts.OpenAlert]
    trouble: list[tuple[ScheduledMessage, Patient]]
    expired: dict[str, int] = field(default_factory=dict)  # kind -> rows expired unsent in 7 days


async def search_patients(
    session: AsyncSession,
    *,
    query: str | None = None,
    status: PatientStatus | None = None,
    formulation: Formulation | None = None,
    sandbox: bool | None = False,
    limit: int = 50,
    offset: int = 0,
) -> PatientPage:
    """Returns patients whose name or any address (phone, chat id) contains `query`, filtered, newest first"""
    conditions = []
    if query and query.strip():
        needle = f"%{query.strip().lower()}%"
        in_address = exists().where(
            ChannelAddress.patient_id == Patient.id, func.lower(ChannelAddress.address).like(needle)
        )
        conditions.append(or_(func.lower(Patient.display_name).like(needle), in_address))
    if status is not None:
        conditions.append(Patient.status == status)
    if formulation is not None:
        conditions.append(Patient.formulation == formulation)
    if sandbox is not None:
        conditions.append(Patient.sandbox.is_(sandbox))
    total = await session.scalar(select(func.count()).select_from(Patient).where(*conditions))
    patients = list(
        await session.scalars(
            select(Patient).where(*conditions).order_by(Patient.id.desc()).limit(limit).offset(offset)
        )
    )
    channels: dict[int, list[ChannelAddress]] = {patient.id: [] for patient in patients}
    if patients:
        for address in await session.scalars(
            select(ChannelAddress).where(ChannelAddress.patient_id.in_(channels)).order_by(ChannelAddress.id)
        ):
            channels[address.patient_id].append(address)
    return PatientPage(patients, channels, int(total or 0))


async def patient_record(session: AsyncSession, patient_id: int) -> PatientRecord | None:
    """Returns the patient's profile, addresses, doses, outbox timeline, check-ins, message log and history
    (audit rows: channel switches, operator actions)."""
    patient = await session.get(Patient, patient_id)
    if patient is None:
        return None
    addresses = await session.scalars(
        select(ChannelAddress).where(ChannelAddress.patient_id == patient_id).order_by(ChannelAddress.id)
    )
    doses = await session.scalars(
        select(Dose)
        .join(TreatmentCourse, TreatmentCourse.id == Dose.course_id)
        .where(TreatmentCourse.patient_id == patient_id)
        .order_by(Dose.planned_at, Dose.id)
    )
    sent_text = (
        select(MessageLog.text)
        .where(MessageLog.scheduled_message_id == ScheduledMessage.id)
        .order_by(MessageLog.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    messages = await session.execute(
        select(ScheduledMessage, sent_text)
        .where(ScheduledMessage.patient_id == patient_id)
        .order_by(ScheduledMessage.due_at, ScheduledMessage.id)
    )
    check_ins = await session.scalars(
        select(CheckIn).where(CheckIn.patient_id == patient_id).order_by(CheckIn.created_at.desc())
    )
    log = await session.scalars(
        select(MessageLog)
        .where(MessageLog.patient_id == patient_id)
        .order_by(MessageLog.created_at.desc(), MessageLog.id.desc())
        .limit(100)
    )
    events = await session.scalars(
        select(AuditLog)
        .where(AuditLog.patient_id == patient_id)
        .order_by(AuditLog.at.desc(), AuditLog.id.desc())
        .limit(100)
    )
    return PatientRecord(
        patient,
        list(addresses),
        list(doses),
        [(row, text) for row, text in messages.all()],
        list(check_ins),
        list(log),
        list(events),
    )


async def dashboard(session: AsyncSession, now: datetime, clinic_zone: str) -> Dashboard:
    """Reads the dashboard: days are the clinic's (DEFAULT_TIMEZONE); sandbox patients are left out.
    Expired rows (past their catch-up window, never sent) are counted by kind, so downtime shows."""
    zone = ZoneInfo(clinic_zone)
    local = now.astimezone(zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    day_end = (start + timedelta(days=1)).replace(hour=0)
    week_end = (start + timedelta(days=7)).replace(hour=0)
    planned = await session.execute(
        select(Dose, Patient)
        .join(TreatmentCourse, TreatmentCourse.id == Dose.course_id)
        .join(Patient, Patient.id == TreatmentCourse.patient_id)
        .where(
            Dose.status == DoseStatus.PLANNED,
            Dose.planned_at >= start,
            Dose.planned_at < week_end,
            Patient.sandbox.is_(False),
            Patient.status.in_((PatientStatus.ACTIVE, PatientStatus.PAUSED)),
        )
        .order_by(Dose.planned_at, Dose.id)
    )
    appointments = [Appointment(dose, patient) for dose, patient in planned.all()]
    trouble = await session.execute(
        select(ScheduledMessage, Patient)
        .join(Patient, Patient.id == ScheduledMessage.patient_id)
        .where(ScheduledMessage.status.in_(TROUBLE), ScheduledMessage.updated_at >= now - TROUBLE_WINDOW)
        .order_by(ScheduledMessage.updated_at.desc())
        .limit(50)
    )
    expired = await session.execute(
        select(func.coalesce(ScheduledMessage.touchpoint_id, ScheduledMessage.kind), func.count())
        .join(Patient, Patient.id == ScheduledMessage.patient_id)
        .where(
            ScheduledMessage.status == MessageStatus.EXPIRED,
            ScheduledMessage.updated_at >= now - TROUBLE_WINDOW,
            Patient.sandbox.is_(False),
        )
        .group_by(func.coalesce(ScheduledMessage.touchpoint_id, ScheduledMessage.kind))
    )
    return Dashboard(
        today=[a for a in appointments if a.dose.planned_at < day_end],
        week=appointments,
        alerts=await alerts.open_alerts(session, limit=100),
        trouble=[(row, patient) for row, patient in trouble.all()],
        expired={str(kind): int(count) for kind, count in sorted(expired.all())},
    )
