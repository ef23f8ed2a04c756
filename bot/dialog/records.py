"""The rows a conversation reads and writes: its address, patient and dialog state, the course and doses.

Owns every query of the dialog, so flows speak in domain terms. Nothing here commits: the engine owns the
one transaction of a step. Must not import `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from care.plan import ReminderPlan
from storage import erasure, sms
from storage.models import (
    ActorType,
    AuditLog,
    Channel,
    ChannelAddress,
    DialogState,
    Dose,
    DoseStatus,
    Invite,
    Language,
    MessageStatus,
    Patient,
    PatientStatus,
    ScheduledMessage,
    TreatmentCourse,
)
from storage.plans import replan_patient


@dataclass
class Conversation:
    """The rows of one address's conversation; `created` when this step made them."""

    address: ChannelAddress
    patient: Patient
    state: DialogState
    created: bool


async def open_conversation(
    session: AsyncSession, channel: Channel, address: str, now: datetime, *, language: Language, timezone: str
) -> Conversation:
    """Returns the conversation of (channel, address), creating a signing-up patient on first contact."""
    found = (
        await session.execute(
            select(ChannelAddress, Patient, DialogState)  # one round trip for the usual case
            .join(Patient, Patient.id == ChannelAddress.patient_id)
            .outerjoin(DialogState, DialogState.channel_address_id == ChannelAddress.id)
            .where(ChannelAddress.channel == channel, ChannelAddress.address == address)
        )
    ).first()
    if found is not None and found[2] is not None:
        return Conversation(found[0], found[1], found[2], created=False)
    row = found[0] if found is not None else None
    created = False
    if row is None:
        patient = Patient(
            language=language,
            timezone=timezone,
            status=PatientStatus.SIGNING_UP,
            created_at=now,
            updated_at=now,
        )
        session.add(patient)
        await session.flush()
        row = ChannelAddress(patient_id=patient.id, channel=channel, address=address, state_changed_at=now)
        session.add(row)
        await session.flush()  # a concurrent first contact fails here (unique address): the engine retries
        created = True
    else:
        patient = await session.get_one(Patient, row.patient_id)
    state = await session.scalar(select(DialogState).where(DialogState.channel_address_id == row.id))
    if state is None:
        state = DialogState(channel_address_id=row.id, flow=None, step=None, data={}, updated_at=now)
        session.add(state)
        await session.flush()
        created = True
    return Conversation(row, patient, state, created)


async def active_course(session: AsyncSession, patient_id: int) -> TreatmentCourse | None:
    """Returns the patient's active course, the newest if there were several."""
    return await session.scalar(
        select(TreatmentCourse)
        .where(TreatmentCourse.patient_id == patient_id, TreatmentCourse.active.is_(True))
        .order_by(TreatmentCourse.started_at.desc(), TreatmentCourse.id.desc())
        .limit(1)
    )


async def course_doses(session: AsyncSession, course_id: int) -> list[Dose]:
    """Returns the course's doses by number."""
    return list(await session.scalars(select(Dose).where(Dose.course_id == course_id).order_by(Dose.number)))


async def replan(session: AsyncSession, patient_id: int, plan: ReminderPlan, now: datetime) -> None:
    """Rewrites the patient's pending outbox rows (cancels them unless the patient is active)."""
    await replan_patient(session, patient_id, plan, now)


async def pending_messages(
    session: AsyncSession, patient_id: int, now: datetime, limit: int
) -> list[ScheduledMessage]:
    """Returns the patient's next pending outbox rows, soonest first."""
    return list(
        await session.scalars(
            select(ScheduledMessage)
            .where(
                ScheduledMessage.patient_id == patient_id,
                ScheduledMessage.status == MessageStatus.PENDING,
                ScheduledMessage.due_at >= now,
            )
            .order_by(ScheduledMessage.due_at, ScheduledMessage.id)
            .limit(limit)
        )
    )


async def sms_number_owner(session: AsyncSession, number: str) -> int | None:
    """Returns the patient id whose SMS address is `number`, if any."""
    return await sms.number_owner(session, number)


async def add_sms_address(
    session: AsyncSession, patient_id: int, number: str, now: datetime
) -> ChannelAddress | None:
    """Adds an SMS address to the patient unless they have it; returns theirs (None: another patient's)."""
    return await sms.add_address(session, patient_id, number, now)


async def sms_address_of(session: AsyncSession, patient_id: int) -> ChannelAddress | None:
    """Returns the patient's SMS address (the newest, should there be several), if any."""
    return await sms.address_of(session, patient_id)


async def set_sms_number(
    session: AsyncSession, patient: Patient, number: str, now: datetime, **how: str
) -> str:
    """Makes `number` the patient's SMS number and asks it for its YES (`storage.sms.set_number`)."""
    return await sms.set_number(session, patient, number, now, **how)


async def remove_sms_address(
    session: AsyncSession, address: ChannelAddress, now: datetime, cause: str
) -> None:
    """Removes the patient's SMS address: its request cancelled, SMS consent off, in the timeline."""
    await sms.remove_number(session, address, now, cause)


async def ask_sms_yes(
    session: AsyncSession, patient: Patient, address: ChannelAddress, text: str, now: datetime
) -> bool:
    """Queues `text` to the number asking for its own YES, once per address; True while one is awaited."""
    if not sms.awaiting_yes(patient, address):
        return False
    await sms.queue_confirmation(session, patient.id, address.id, text, now)
    return True


async def find_invite(session: AsyncSession, code: str) -> Invite | None:
    """Returns the invite with this code (exactly, or in capitals), if any."""
    for candidate in dict.fromkeys((code, code.upper())):
        invite = await session.scalar(select(Invite).where(Invite.code == candidate))
        if invite is not None:
            return invite
    return None


async def other_addresses(session: AsyncSession, patient_id: int, address_id: int) -> int:
    """Returns how many addresses the patient has besides `address_id`."""
    rows = await session.scalars(
        select(ChannelAddress.id).where(
            ChannelAddress.patient_id == patient_id, ChannelAddress.id != address_id
        )
    )
    return len(list(rows))


delete_patient = erasure.delete_patient  # every record of the patient, the message log included


async def erase_patient(session: AsyncSession, patient: Patient, channel: Channel, now: datetime) -> None:
    """Erases every record of the patient and keeps one audit row that names nobody."""
    await delete_patient(session, patient)
    session.add(
        AuditLog(
            at=now,
            actor_type=ActorType.PATIENT,
            patient_id=None,
            action="patient_erased",
            detail={"by": "patient", "channel": channel.value},
        )
    )
    await session.flush()


def planned_doses(doses: list[Dose]) -> list[Dose]:
    """Returns the doses still planned, by number."""
    return [dose for dose in doses if dose.status is DoseStatus.PLANNED]


def given_doses(doses: list[Dose]) -> list[Dose]:
    """Returns the doses given, by number."""
    return [dose for dose in doses if dose.status is DoseStatus.GIVEN and dose.given_at is not None]
