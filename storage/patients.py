"""Small patient queries the dispatcher needs: the patient as stored now, their addresses, the message log.

Nothing here commits; the caller owns the transaction. Must not import `bot`, `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AddressState, Channel, ChannelAddress, Direction, MessageLog, Patient

QUEUED = "queued"  # the delivery status of a person's message whose outbox row has not gone out yet


async def fresh_patient(session: AsyncSession, patient_id: int) -> Patient | None:
    """Returns the patient as the database holds it now (not a copy cached by this session), or None."""
    return await session.get(Patient, patient_id, populate_existing=True)


async def active_addresses(session: AsyncSession, patient_id: int) -> list[ChannelAddress]:
    """Returns the patient's addresses that may be used, oldest first."""
    result = await session.scalars(
        select(ChannelAddress)
        .where(ChannelAddress.patient_id == patient_id, ChannelAddress.state == AddressState.ACTIVE)
        .order_by(ChannelAddress.id)
        .execution_options(populate_existing=True)
    )
    return list(result)


async def addresses_on(session: AsyncSession, patient_id: int, channel: Channel) -> list[ChannelAddress]:
    """Returns the patient's addresses on `channel`, whatever their state, oldest first."""
    result = await session.scalars(
        select(ChannelAddress)
        .where(ChannelAddress.patient_id == patient_id, ChannelAddress.channel == channel)
        .order_by(ChannelAddress.id)
    )
    return list(result)


async def set_address_state(
    session: AsyncSession, address_id: int, state: AddressState, now: datetime
) -> bool:
    """Moves an address to `state` (blocked, opted out, invalid, active); False when it already was."""
    result = await session.execute(
        update(ChannelAddress)
        .where(ChannelAddress.id == address_id, ChannelAddress.state != state)
        .values(state=state, state_changed_at=now)
    )
    return int(result.rowcount) == 1


async def set_state_of(
    session: AsyncSession, channel: Channel, address: str, state: AddressState, now: datetime
) -> bool:
    """Moves the address `address` of `channel` to `state`; False when unknown or already there."""
    result = await session.execute(
        update(ChannelAddress)
        .where(
            ChannelAddress.channel == channel,
            ChannelAddress.address == address,
            ChannelAddress.state != state,
        )
        .values(state=state, state_changed_at=now)
    )
    return int(result.rowcount) == 1


async def log_outbound(
    session: AsyncSession,
    *,
    patient_id: int,
    channel: Channel,
    text: str,
    now: datetime,
    scheduled_message_id: int | None = None,
    provider_id: str | None = None,
) -> MessageLog:
    """Adds the message_log row of a message that went out (completes its queued row, if it has one)."""
    if scheduled_message_id is not None:
        queued = await session.scalar(
            select(MessageLog).where(
                MessageLog.scheduled_message_id == scheduled_message_id,
                MessageLog.delivery_status == QUEUED,
            )
        )
        if queued is not None:
            queued.channel, queued.text, queued.provider_id = channel, text, provider_id
            queued.delivery_status, queued.created_at = None, now
            await session.flush()
            return queued
    row = MessageLog(
        patient_id=patient_id,
        channel=channel,
        direction=Direction.OUTBOUND,
        text=text,
        scheduled_message_id=scheduled_message_id,
        provider_id=provider_id,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def queue_text(
    session: AsyncSession,
    *,
    patient_id: int,
    channel: Channel,
    text: str,
    scheduled_message_id: int,
    now: datetime,
) -> MessageLog:
    """Keeps the text of an outbox row written by a person (no template makes it) until it is sent.

    The row is the message's log row, marked `queued`; `log_outbound` completes it when the message goes.
    """
    row = MessageLog(
        patient_id=patient_id,
        channel=channel,
        direction=Direction.OUTBOUND,
        text=text,
        scheduled_message_id=scheduled_message_id,
        delivery_status=QUEUED,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def queued_text(session: AsyncSession, scheduled_message_id: int) -> str | None:
    """Returns the queued text of an outbox row written by a person, or None."""
    return await session.scalar(
        select(MessageLog.text).where(
            MessageLog.scheduled_message_id == scheduled_message_id, MessageLog.delivery_status == QUEUED
        )
    )
