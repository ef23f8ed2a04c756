"""An operator's one-off message to a patient, and erasing a patient from the console.

A one-off goes through the outbox like every message: a `scheduled_message` row of kind `one_off`, due now,
its text kept in the message log as `queued` until the dispatcher sends it as written, in the patient's
channel (a sandbox patient's only to the simulator). It is not held by quiet hours: a person chose to send
it now, as they would phone, and the form shows the patient's local time first. No plan rewrite cancels it
(`storage.plans.OFF_PLAN_KINDS`); pause, stop and erase do. Only an active patient with a reachable channel
gets one, so that the operator is told at once rather than finding a cancelled row later.
Erasing deletes every record of the patient (`storage` cascades, message log included) and keeps one audit
row naming nobody; the operator must type the patient's number to confirm.
Must not import `bot`, `jobs` or `ocrebot`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin.accounts import audit
from admin.actions import Conflict, NotFound
from care.sms_segments import segments
from storage import patients
from storage.models import Channel, MessageLog, MessageStatus, Patient, PatientStatus, ScheduledMessage
from storage.outbox import ONE_OFF

MAX_SMS_SEGMENTS = 2
CHANNEL_ORDER = (Channel.TELEGRAM, Channel.SMS)  # the dispatcher's default order


class TooLong(ValueError):
    """The text would take more than two SMS."""


@dataclass(frozen=True)
class Queued:
    """The one-off's outbox row; `sandbox`: the simulator must deliver it, on the patient's sandbox clock."""

    message_id: int
    due_at: datetime
    status: MessageStatus
    sandbox: bool


async def queue_one_off(
    sessions: async_sessionmaker[AsyncSession], patient_id: int, text: str, *, operator_id: int, now: datetime
) -> Queued:
    """Writes the one-off outbox row, due now, and its queued text; audited. NotFound, Conflict or TooLong."""
    text = text.strip()
    if segments(text) > MAX_SMS_SEGMENTS:
        raise TooLong(f"is longer than {MAX_SMS_SEGMENTS} SMS; shorten it")
    async with sessions() as session, session.begin():
        patient = await session.get(Patient, patient_id)
        if patient is None:
            raise NotFound(f"patient {patient_id} does not exist")
        if patient.status is not PatientStatus.ACTIVE:
            raise Conflict(f"the patient is {patient.status.value}: only active patients get messages")
        channel = await _likely_channel(session, patient)
        if channel is None:
            raise Conflict("the patient has no channel that can receive a message")
        row = ScheduledMessage(
            patient_id=patient_id,
            kind=ONE_OFF,
            dedupe_key=f"{ONE_OFF}:{secrets.token_hex(8)}",
            due_at=now,
            status=MessageStatus.PENDING,
            attempts=0,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        await session.flush()
        await patients.queue_text(
            session, patient_id=patient_id, channel=channel, text=text, scheduled_message_id=row.id, now=now
        )
        await audit(
            session, now, operator_id=operator_id, patient_id=patient_id, action="patient.one_off",
            detail={"message": row.id, "segments": segments(text)},
        )  # fmt: skip
    return Queued(row.id, row.due_at, row.status, patient.sandbox)


async def erase(
    sessions: async_sessionmaker[AsyncSession],
    patient_id: int,
    confirm: str,
    *,
    operator_id: int,
    now: datetime,
) -> None:
    """Erases every record of the patient when `confirm` is their number; NotFound, or ValueError."""
    if confirm.strip().lstrip("#") != str(patient_id):
        raise ValueError(f"type {patient_id} to confirm")
    async with sessions() as session, session.begin():
        patient = await session.get(Patient, patient_id)
        if patient is None:
            raise NotFound(f"patient {patient_id} does not exist")
        await session.execute(delete(MessageLog).where(MessageLog.patient_id == patient_id))
        await session.delete(patient)
        await session.flush()
        await audit(
            session, now, operator_id=operator_id, action="patient.erase", detail={"sandbox": patient.sandbox}
        )


async def _likely_channel(session: AsyncSession, patient: Patient) -> Channel | None:
    """Returns the channel the dispatcher will most likely use now (it decides again when sending)."""
    addresses = {address.channel for address in await patients.active_addresses(session, patient.id)}
    if patient.sandbox:
        return Channel.WEB
    for channel in CHANNEL_ORDER:
        if channel in addresses and (channel is not Channel.SMS or patient.sms_consent):
            return channel
    return None
