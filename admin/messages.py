"""An operator's one-off message to a patient, and erasing a patient from the console.

A one-off goes through the outbox like every message: a `scheduled_message` row of kind `one_off`, due now,
its text kept in the message log as `queued` until the dispatcher sends it as written, in the patient's
channel (a sandbox patient's only to the simulator). It is not held by quiet hours: a person chose to send
it now, as they would phone, and the form shows the patient's local time first. No plan rewrite cancels it
(`storage.plans.OFF_PLAN_KINDS`); pause, stop and erase do. Only an active patient with a reachable channel
gets one, so that the operator is told at once rather than finding a cancelled row later.
A one-off is sent at most once per key: the form carries a nonce rendered with it, the API takes an
`Idempotency-Key` header; the row's dedupe key is `one_off:<operator id>:<key>`, so a double-click or a
client's retry finds the row the first request wrote (unique patient and dedupe key) and queues nothing.
Erasing deletes every record of the patient (`storage.erasure`, message log included) and keeps one audit
row naming nobody; the operator must type the patient's number to confirm.
Must not import `bot`, `jobs` or `ocrebot`.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin.accounts import audit
from admin.actions import Conflict, NotFound
from care.sms_segments import MAX_SMS_SEGMENTS, segments
from storage import erasure, patients
from storage.models import Channel, MessageStatus, Patient, PatientStatus, ScheduledMessage
from storage.outbox import ONE_OFF

CHANNEL_ORDER = (Channel.TELEGRAM, Channel.SMS)  # the dispatcher's default order
KEY_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{8,100}")  # a form nonce or a client's Idempotency-Key


def new_nonce() -> str:
    """Returns a fresh nonce for a one-off form (its repeat is the same message)."""
    return secrets.token_urlsafe(16)


def valid_key(key: str | None) -> bool:
    """True when `key` may be an idempotency key (8-100 letters, digits, and _ . : -)."""
    return key is not None and KEY_PATTERN.fullmatch(key) is not None


class TooLong(ValueError):
    """The text would take more than two SMS."""


class NotConfirmed(ValueError):
    """The number typed to confirm an erasure is not the patient's."""


@dataclass(frozen=True)
class Queued:
    """The one-off's outbox row; `sandbox`: the simulator must deliver it, on the patient's sandbox clock."""

    message_id: int
    due_at: datetime
    status: MessageStatus
    sandbox: bool
    repeat: bool = False  # the same key was queued before: nothing new was written


async def queue_one_off(
    sessions: async_sessionmaker[AsyncSession],
    patient_id: int,
    text: str,
    *,
    operator_id: int,
    now: datetime,
    key: str | None = None,
) -> Queued:
    """Writes the one-off outbox row, due now, and its queued text; audited. NotFound, Conflict or TooLong.

    With `key` (see `valid_key`), a repeat returns the first row, marked `repeat`, and writes nothing.
    """
    text = text.strip()
    if segments(text) > MAX_SMS_SEGMENTS:
        raise TooLong(f"is longer than {MAX_SMS_SEGMENTS} SMS; shorten it")
    dedupe_key = f"{ONE_OFF}:{operator_id}:{key}" if key else f"{ONE_OFF}:{secrets.token_hex(8)}"
    try:
        return await _queue(sessions, patient_id, text, dedupe_key, operator_id=operator_id, now=now)
    except IntegrityError:  # a concurrent repeat wrote it first
        earlier = await _earlier(sessions, patient_id, dedupe_key)
        if earlier is None:
            raise
        return earlier


async def _earlier(
    sessions: async_sessionmaker[AsyncSession], patient_id: int, dedupe_key: str
) -> Queued | None:
    """Returns the one-off already queued under `dedupe_key`, as a repeat, if any."""
    async with sessions() as session:
        row = await session.scalar(
            select(ScheduledMessage).where(
                ScheduledMessage.patient_id == patient_id, ScheduledMessage.dedupe_key == dedupe_key
            )
        )
        patient = await session.get(Patient, patient_id)
        if row is None or patient is None:
            return None
        return Queued(row.id, row.due_at, row.status, patient.sandbox, repeat=True)


async def _queue(
    sessions: async_sessionmaker[AsyncSession],
    patient_id: int,
    text: str,
    dedupe_key: str,
    *,
    operator_id: int,
    now: datetime,
) -> Queued:
    earlier = await _earlier(sessions, patient_id, dedupe_key)
    if earlier is not None:
        return earlier
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
            dedupe_key=dedupe_key,
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
    """Erases every record of the patient when `confirm` is their number; NotFound, or NotConfirmed."""
    if confirm.strip().lstrip("#") != str(patient_id):
        raise NotConfirmed(f"type {patient_id} to confirm")
    async with sessions() as session, session.begin():
        patient = await session.get(Patient, patient_id)
        if patient is None:
            raise NotFound(f"patient {patient_id} does not exist")
        await erasure.delete_patient(session, patient)
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
