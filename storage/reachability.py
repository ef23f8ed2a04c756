"""Reachability: a patient's channels switching (blocked, opted out, restored), each switch in their timeline,
and the clinic flagged when no channel is left.

Owns `set_address_state` / `set_state_of` (move one address, and record the switch), `record_switch` (an
audit row, actor system, action `channel_<state>`: the channel, the cause and the channels still usable,
which the console's patient page lists) and `check` (no usable channel left for an active patient -> one open
flagged check-in, reason unreachable; usable again -> open ones cleared by the system). A channel is usable
when its address is active and, for SMS, the patient consented to SMS. Nothing here commits; the caller owns
the transaction. Must not import `bot`, `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import alerts
from storage.models import (
    ActorType,
    AddressState,
    AuditLog,
    Channel,
    ChannelAddress,
    CheckIn,
    CheckInLevel,
    CheckInReason,
    Patient,
    PatientStatus,
)

SWITCH_ACTIONS = {
    AddressState.BLOCKED: "channel_blocked",
    AddressState.OPTED_OUT: "channel_opted_out",
    AddressState.INVALID: "channel_invalid",
    AddressState.ACTIVE: "channel_restored",
}
CLEARED_NOTE = "cleared: reachable again"
CLEARED_ACTION = "unreachable_cleared"
_PATIENT_CHANNELS = (Channel.TELEGRAM, Channel.SMS)


async def usable_channels(session: AsyncSession, patient: Patient) -> list[Channel]:
    """Returns the channels a scheduled message could take to the patient now, Telegram first."""
    states = await session.execute(
        select(ChannelAddress.channel)
        .where(ChannelAddress.patient_id == patient.id, ChannelAddress.state == AddressState.ACTIVE)
        .execution_options(populate_existing=True)
    )
    active = {channel for (channel,) in states.all()}
    return [
        channel
        for channel in _PATIENT_CHANNELS
        if channel in active and (channel is not Channel.SMS or patient.sms_consent)
    ]


async def set_address_state(
    session: AsyncSession, address_id: int, state: AddressState, now: datetime, cause: str
) -> CheckIn | None:
    """Moves one address to `state` and records the switch; returns a new unreachable flag, if raised."""
    address = await session.get(ChannelAddress, address_id, populate_existing=True)
    if address is None or address.state is state:
        return None
    address.state, address.state_changed_at = state, now
    await session.flush()
    return await record_switch(session, address.patient_id, address.channel, state, now, cause)


async def set_state_of(
    session: AsyncSession, channel: Channel, address: str, state: AddressState, now: datetime, cause: str
) -> tuple[bool, CheckIn | None]:
    """Moves the address of `channel` to `state`; (whether it changed, a new unreachable flag or None)."""
    address_id = await session.scalar(
        select(ChannelAddress.id).where(ChannelAddress.channel == channel, ChannelAddress.address == address)
    )
    if address_id is None:
        return False, None
    row = await session.get_one(ChannelAddress, address_id, populate_existing=True)
    if row.state is state:
        return False, None
    return True, await set_address_state(session, address_id, state, now, cause)


async def record_switch(
    session: AsyncSession,
    patient_id: int,
    channel: Channel,
    state: AddressState,
    now: datetime,
    cause: str,
    *,
    action: str | None = None,
) -> CheckIn | None:
    """Adds the timeline entry of a channel switch (`action`, else the state's), then checks reachability."""
    patient = await session.get_one(Patient, patient_id, populate_existing=True)
    usable = await usable_channels(session, patient)
    session.add(
        AuditLog(
            at=now,
            actor_type=ActorType.SYSTEM,
            patient_id=patient_id,
            action=action or SWITCH_ACTIONS[state],
            detail={"channel": channel.value, "cause": cause, "now_via": [c.value for c in usable]},
        )
    )
    await session.flush()
    return await check(session, patient, now)


async def check(session: AsyncSession, patient: Patient, now: datetime) -> CheckIn | None:
    """Flags an active patient with no usable channel (once while open); clears open flags once reachable."""
    usable = await usable_channels(session, patient)
    open_ids = list(
        await session.scalars(
            select(CheckIn.id).where(
                CheckIn.patient_id == patient.id,
                CheckIn.reason == CheckInReason.UNREACHABLE,
                CheckIn.flagged.is_(True),
                CheckIn.acknowledged_at.is_(None),
            )
        )
    )
    if usable:
        if open_ids:
            await session.execute(
                update(CheckIn)
                .where(CheckIn.id.in_(open_ids))
                .values(acknowledged_at=now, ack_note=f"{CLEARED_NOTE} by {usable[0].value}"),
                execution_options={"synchronize_session": "fetch"},
            )
            session.add(
                AuditLog(
                    at=now,
                    actor_type=ActorType.SYSTEM,
                    patient_id=patient.id,
                    action=CLEARED_ACTION,
                    detail={"check_in_ids": open_ids},
                )
            )
            await session.flush()
        return None
    if open_ids or patient.sandbox or patient.status is not PatientStatus.ACTIVE:
        return None
    return await alerts.add_check_in(
        session,
        patient_id=patient.id,
        level=CheckInLevel.CLINIC_TODAY,
        flagged=True,
        reason=CheckInReason.UNREACHABLE,
        now=now,
    )
