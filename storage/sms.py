"""What SMS webhooks change: opt-out and opt-in of a number, its own YES, delivery statuses, and look-ups.

Owns the STOP rule (the address is opted out, the patient's SMS consent is withdrawn, nothing more goes to
that number: a pending confirmation request is cancelled, other pending rows fall back to Telegram, or are
cancelled and the clinic flagged when none is left), START (the address is usable again and the consent
back; the caller replans), the confirmation of a number typed in another channel (one request per address
is queued, `queue_confirmation`; until the phone answers YES, `confirm`, the patient has no SMS consent),
a number added, changed or given up by the patient in their chat or by an operator for them (`set_number`,
`add_number`, `remove_number`),
each switch in the patient's timeline (`storage.reachability`), and delivery callbacks (recorded on the
message_log rows and the outbox row of the provider's message id, idempotent and never moving backwards:
callbacks arrive late, twice or out of order). Nothing here commits; the caller owns the transaction.
Must not import `bot`, `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import patients, reachability
from storage.models import (
    AddressState,
    Channel,
    ChannelAddress,
    Invite,
    MessageLog,
    MessageStatus,
    Patient,
    ScheduledMessage,
)
from storage.outbox import SMS_CONFIRM

# Twilio's message statuses, in the order a message moves through them; the last four are final.
_RANK = {"accepted": 0, "scheduled": 0, "queued": 1, "sending": 2, "sent": 3, "delivered": 4, "read": 5,
         "undelivered": 6, "failed": 6, "canceled": 6, "partially_delivered": 4}  # fmt: skip
FAILED_STATUSES = frozenset({"undelivered", "failed"})
OPTED_OUT_CODE = "21610"
CONFIRMED_ACTION = "sms_confirmed"  # the timeline entry of a phone's YES
ADDED_ACTION = "sms_number_added"  # the patient gave a number (/phone): it waits for its own YES
REMOVED_ACTION = "sms_number_removed"  # the patient changed or removed their number (/phone)
_SENT_LIKE = (MessageStatus.SENT, MessageStatus.UNCERTAIN)
# what `set_number` did: the number stored and its YES asked for, already the patient's, another patient's
NUMBER_SET, NUMBER_SAME, NUMBER_TAKEN = "set", "same", "taken"


async def sms_address(session: AsyncSession, number: str) -> ChannelAddress | None:
    """Returns the SMS address row of `number` (E.164), if we know it."""
    return await session.scalar(
        select(ChannelAddress).where(ChannelAddress.channel == Channel.SMS, ChannelAddress.address == number)
    )


async def number_owner(session: AsyncSession, number: str) -> int | None:
    """Returns the patient id whose SMS address is `number`, if any."""
    return await session.scalar(
        select(ChannelAddress.patient_id).where(
            ChannelAddress.channel == Channel.SMS, ChannelAddress.address == number
        )
    )


async def address_of(session: AsyncSession, patient_id: int) -> ChannelAddress | None:
    """Returns the patient's SMS address (the newest, should there be several), if any."""
    return await session.scalar(
        select(ChannelAddress)
        .where(ChannelAddress.patient_id == patient_id, ChannelAddress.channel == Channel.SMS)
        .order_by(ChannelAddress.id.desc())
        .limit(1)
    )


async def add_address(
    session: AsyncSession, patient_id: int, number: str, now: datetime
) -> ChannelAddress | None:
    """Adds an SMS address to the patient unless they have it; returns theirs (None: another patient's)."""
    address = await sms_address(session, number)
    if address is None:
        address = ChannelAddress(
            patient_id=patient_id, channel=Channel.SMS, address=number, state_changed_at=now
        )
        session.add(address)
        await session.flush()
    return address if address.patient_id == patient_id else None


async def patient_language(session: AsyncSession, number: str) -> str | None:
    """Returns the language code of the patient the number belongs to, if any."""
    language = await session.scalar(
        select(Patient.language)
        .join(ChannelAddress, ChannelAddress.patient_id == Patient.id)
        .where(ChannelAddress.channel == Channel.SMS, ChannelAddress.address == number)
    )
    return None if language is None else str(language.value)


async def invite_exists(session: AsyncSession, code: str) -> bool:
    """Tells whether `code` (as typed, or in capitals) is an invite code, used or not."""
    candidates = list(dict.fromkeys((code, code.upper())))
    return await session.scalar(select(Invite.id).where(Invite.code.in_(candidates)).limit(1)) is not None


async def opt_out(
    session: AsyncSession, number: str, now: datetime, *, cause: str = "sms: the patient texted STOP"
) -> int | None:
    """Opts the number out (STOP): address opted out, SMS consent withdrawn; pending rows pinned to SMS fall
    back to Telegram when the patient has an active chat, else every pending row is cancelled and the clinic
    flagged (`storage.reachability`, which also puts the switch in the patient's timeline).

    Returns the patient id, or None when the number is unknown. Idempotent.
    """
    address = await sms_address(session, number)
    if address is None:
        return None
    switched = address.state is not AddressState.OPTED_OUT
    if switched:
        address.state, address.state_changed_at = AddressState.OPTED_OUT, now
    patient = await session.get_one(Patient, address.patient_id)
    if patient.sms_consent:
        patient.sms_consent, patient.updated_at = False, now
    others = await session.scalar(
        select(ChannelAddress.id)
        .where(
            ChannelAddress.patient_id == patient.id,
            ChannelAddress.channel.in_((Channel.TELEGRAM,)),
            ChannelAddress.state == AddressState.ACTIVE,
        )
        .limit(1)
    )
    sms_only = ScheduledMessage.channel == Channel.SMS
    pending = (ScheduledMessage.patient_id == patient.id, ScheduledMessage.status == MessageStatus.PENDING)
    await session.execute(  # a request for this number's YES is for this number only: never another channel
        update(ScheduledMessage)
        .where(*pending, ScheduledMessage.dedupe_key == confirm_key(address.id))
        .values(status=MessageStatus.CANCELLED, last_error="recipient opted out of SMS", updated_at=now)
    )
    if others is not None:  # Telegram takes over what was pinned to SMS
        await session.execute(
            update(ScheduledMessage).where(*pending, sms_only).values(channel=None, updated_at=now)
        )
    else:
        await session.execute(
            update(ScheduledMessage)
            .where(*pending, or_(sms_only, ScheduledMessage.channel.is_(None)))
            .values(status=MessageStatus.CANCELLED, last_error="recipient opted out of SMS", updated_at=now)
        )
    await session.flush()
    if switched:
        await reachability.record_switch(session, patient.id, Channel.SMS, AddressState.OPTED_OUT, now, cause)
    return patient.id


async def opt_in(session: AsyncSession, number: str, now: datetime) -> int | None:
    """Makes an opted-out (or blocked) number usable again (START); returns the patient id, None if unknown.

    The SMS consent comes back only for a patient who had consented to the service; the caller replans.
    """
    address = await sms_address(session, number)
    if address is None:
        return None
    switched = address.state in (AddressState.OPTED_OUT, AddressState.BLOCKED)
    if switched:
        address.state, address.state_changed_at = AddressState.ACTIVE, now
    patient = await session.get_one(Patient, address.patient_id)
    if patient.consented_at is not None and not patient.sms_consent:
        patient.sms_consent, patient.updated_at = True, now
    await session.flush()
    if switched:
        cause = "sms: the patient texted START"
        await reachability.record_switch(session, patient.id, Channel.SMS, AddressState.ACTIVE, now, cause)
    return patient.id


NumberState = Literal["none", "on", "awaiting_yes", "opted_out", "unreachable", "off"]


def number_state(patient: Patient, address: ChannelAddress | None) -> NumberState:
    """Returns the state of the patient's SMS number: none, on, awaiting_yes (texted: on when the phone
    replies YES), opted_out (the phone texted STOP), unreachable, or off (no SMS consent)."""
    if address is None:
        return "none"
    if address.state is AddressState.OPTED_OUT:
        return "opted_out"
    if address.state is not AddressState.ACTIVE:
        return "unreachable"
    if patient.sms_consent:
        return "on"
    return "awaiting_yes" if awaiting_yes(patient, address) else "off"


def awaiting_yes(patient: Patient, address: ChannelAddress) -> bool:
    """Tells whether the number waits for its own YES: active, its patient consented, but not to SMS."""
    consented = patient.consented_at is not None
    return address.state is AddressState.ACTIVE and consented and not patient.sms_consent


async def awaits_yes(session: AsyncSession, address: ChannelAddress) -> bool:
    """Tells whether the address waits for its own YES (`awaiting_yes`), reading its patient."""
    patient = await session.get(Patient, address.patient_id)
    return patient is not None and awaiting_yes(patient, address)


def confirm_key(address_id: int) -> str:
    """Returns the dedupe key of an address's confirmation request: one per address, ever."""
    return f"{SMS_CONFIRM}:{address_id}"


def confirm_address_id(dedupe_key: str) -> int | None:
    """Returns the address a confirmation request's dedupe key names, or None for another key."""
    prefix, _, rest = dedupe_key.partition(":")
    return int(rest) if prefix == SMS_CONFIRM and rest.isdigit() else None


async def queue_confirmation(
    session: AsyncSession, patient_id: int, address_id: int, text: str, now: datetime
) -> bool:
    """Queues the address's confirmation request, due now, `text` as written; False if queued before."""
    key = confirm_key(address_id)
    earlier = await session.scalar(
        select(ScheduledMessage.id).where(
            ScheduledMessage.patient_id == patient_id, ScheduledMessage.dedupe_key == key
        )
    )
    if earlier is not None:
        return False
    row = ScheduledMessage(
        patient_id=patient_id, kind=SMS_CONFIRM, dedupe_key=key, due_at=now, channel=Channel.SMS,
        status=MessageStatus.PENDING, attempts=0, created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(row)
    await session.flush()
    await patients.queue_text(
        session, patient_id=patient_id, channel=Channel.SMS, text=text, scheduled_message_id=row.id, now=now
    )
    return True


async def confirm(session: AsyncSession, number: str, now: datetime) -> int | None:
    """Turns SMS on for the patient whose number answered YES (see `awaiting_yes`); returns the patient id,
    None when the number waits for nothing. The switch goes in the timeline; the caller replans."""
    address = await sms_address(session, number)
    if address is None:
        return None
    patient = await session.get_one(Patient, address.patient_id)
    if not awaiting_yes(patient, address):
        return None
    patient.sms_consent, patient.updated_at = True, now
    await session.flush()
    cause = "sms: the phone replied YES to the confirmation"
    await reachability.record_switch(
        session, patient.id, Channel.SMS, AddressState.ACTIVE, now, cause, action=CONFIRMED_ACTION
    )
    return patient.id


async def add_number(session: AsyncSession, address: ChannelAddress, now: datetime, cause: str) -> None:
    """Puts a number the patient just gave in their timeline (it gets SMS only after its own YES)."""
    await reachability.record_switch(
        session, address.patient_id, Channel.SMS, AddressState.ACTIVE, now, cause, action=ADDED_ACTION
    )


async def set_number(
    session: AsyncSession,
    patient: Patient,
    number: str,
    now: datetime,
    *,
    request: str,
    changed_cause: str,
    added_cause: str,
) -> str:
    """Makes `number` (E.164) the patient's SMS number; returns `NUMBER_SET`, `NUMBER_SAME` (theirs
    already: nothing changes) or `NUMBER_TAKEN` (another patient's: nothing changes, unless it was taken a
    moment ago, after their old number was removed: the caller decides whether to roll back).

    The old number is removed (`remove_number`, `changed_cause` in the timeline), the new one added
    (`added_cause`) and, when the patient consented to the service, its one request for its own YES
    (`request`, as written) is queued: the patient has SMS consent only after it. The caller replans.
    """
    if await number_owner(session, number) not in (None, patient.id):
        return NUMBER_TAKEN
    old = await address_of(session, patient.id)
    if old is not None and old.address == number:
        return NUMBER_SAME
    if old is not None:
        await remove_number(session, old, now, changed_cause)
    address = await add_address(session, patient.id, number, now)
    if address is None:
        return NUMBER_TAKEN
    await add_number(session, address, now, added_cause)
    if awaiting_yes(patient, address):
        await queue_confirmation(session, patient.id, address.id, request, now)
    return NUMBER_SET


async def remove_number(session: AsyncSession, address: ChannelAddress, now: datetime, cause: str) -> None:
    """Removes an SMS address its patient (or an operator for them) gave up: nothing more goes to that number.

    Its confirmation request is cancelled if still pending, and every request of it gets a retired key (a
    later address may get the same id on SQLite, and must get its own request); pending rows pinned to SMS
    are left to the channels still usable; the patient's SMS consent is withdrawn (a new number needs its own
    YES); the address is deleted (its dialog state with it) and the removal goes in the timeline.
    """
    key = confirm_key(address.id)
    requests = list(
        await session.scalars(
            select(ScheduledMessage).where(
                ScheduledMessage.patient_id == address.patient_id, ScheduledMessage.dedupe_key == key
            )
        )
    )
    for row in requests:
        if row.status is MessageStatus.PENDING:
            row.status, row.last_error = MessageStatus.CANCELLED, "number removed or changed"
        row.dedupe_key, row.updated_at = f"{SMS_CONFIRM}-removed:{row.id}", now
    await session.execute(
        update(ScheduledMessage)
        .where(
            ScheduledMessage.patient_id == address.patient_id,
            ScheduledMessage.status == MessageStatus.PENDING,
            ScheduledMessage.channel == Channel.SMS,
        )
        .values(channel=None, updated_at=now)
    )
    patient = await session.get_one(Patient, address.patient_id)
    if patient.sms_consent:
        patient.sms_consent, patient.updated_at = False, now
    patient_id = address.patient_id
    await session.delete(address)
    await session.flush()
    await reachability.record_switch(
        session, patient_id, Channel.SMS, AddressState.OPTED_OUT, now, cause, action=REMOVED_ACTION
    )


async def record_status(
    session: AsyncSession, message_sid: str, status: str, error_code: str | None, now: datetime
) -> int:
    """Records a delivery status on the message's log rows and outbox row; returns the log rows changed.

    A status earlier than the one recorded (a late "sent" after "delivered") changes nothing.
    """
    status = status.lower()
    rank = _RANK.get(status)
    if rank is None:
        return 0
    logs = list(await session.scalars(select(MessageLog).where(MessageLog.provider_id == message_sid)))
    changed = 0
    for row in logs:
        if _RANK.get(row.delivery_status or "", -1) > rank:
            continue
        if (row.delivery_status, row.error_code) != (status, error_code or row.error_code):
            row.delivery_status = status
            row.error_code = error_code or row.error_code
            changed += 1
    values: dict[str, object] | None = None
    if status == "delivered":
        values = {"status": MessageStatus.DELIVERED, "updated_at": now}
    elif status in FAILED_STATUSES:
        reason = f"twilio {status}" + (f" {error_code}" if error_code else "")
        values = {"status": MessageStatus.FAILED, "last_error": reason, "updated_at": now}
    if values is not None:
        await session.execute(
            update(ScheduledMessage)
            .where(ScheduledMessage.provider_id == message_sid, ScheduledMessage.status.in_(_SENT_LIKE))
            .values(**values)
        )
    await session.flush()
    return changed
