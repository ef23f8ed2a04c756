"""Helpers for dialog tests: `Chat`, a whole sign-up, and reading what was stored.

`Chat` plays one patient on one address: `await chat.send("Madrid")`, `await chat.choose("yes")`, then read
`chat.text` (every reply of the last step, joined) and `chat.keys` (the option keys of the last reply).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dialog import DialogEngine, InboundEvent, Reply
from storage.models import Channel, ChannelAddress, DialogState, Patient

START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # a Thursday; 10:00 in Madrid, 04:00 in New York


@dataclass
class Chat:
    """One patient talking to the engine from one address."""

    engine: DialogEngine
    address: str = "tg-1001"
    channel: Channel = Channel.TELEGRAM
    language_hint: str | None = None
    last: list[Reply] = field(default_factory=list)

    async def send(self, text: str | None = None, **fields: Any) -> list[Reply]:
        """Sends text (or other event fields) and keeps the replies."""
        event = InboundEvent(
            channel=self.channel, address=self.address, text=text, language_hint=self.language_hint, **fields
        )
        self.last = await self.engine.step(event)
        return self.last

    async def choose(self, key: str) -> list[Reply]:
        """Taps the option `key`."""
        return await self.send(None, option=key)

    @property
    def text(self) -> str:
        """Returns the texts of the last step's replies, joined."""
        return "\n\n".join(reply.text for reply in self.last)

    @property
    def keys(self) -> list[str]:
        """Returns the option keys of the last reply."""
        return [option.key for option in self.last[-1].options] if self.last else []


async def sign_up(
    chat: Chat, *, name: str = "Ana", place: str = "Hospital La Paz", phone: str | None = None
) -> None:
    """Signs up in English: Madrid, IV on 6-monthly doses, last dose 3 June, next 12 March 2027 09:30."""
    await chat.send("hello")
    await chat.choose("yes")
    await chat.send(name)
    await chat.send("Madrid")
    await chat.choose("yes")
    await chat.choose("iv")
    await chat.choose("six_monthly")
    await chat.send("3 June")
    await chat.send("12 March 9:30")
    await chat.send(place)
    if phone is None:
        await chat.choose("no")
    else:
        await chat.send(phone)
    await chat.choose("confirm")
    assert "all set" in chat.text, chat.text


@dataclass(frozen=True)
class Snapshot:
    """A conversation's stored state."""

    flow: str | None
    step: str | None
    data: dict[str, Any]
    version: int


async def snapshot(
    sessions: async_sessionmaker[AsyncSession], address: str, channel: Channel = Channel.TELEGRAM
) -> Snapshot:
    """Returns the stored dialog state of an address."""
    async with sessions() as session:
        state = await session.scalar(
            select(DialogState)
            .join(ChannelAddress, ChannelAddress.id == DialogState.channel_address_id)
            .where(ChannelAddress.channel == channel, ChannelAddress.address == address)
        )
        assert state is not None
        return Snapshot(state.flow, state.step, dict(state.data), state.version)


async def patient_of(
    sessions: async_sessionmaker[AsyncSession], address: str, channel: Channel = Channel.TELEGRAM
) -> Patient:
    """Returns the patient an address belongs to."""
    async with sessions() as session:
        patient = await session.scalar(
            select(Patient)
            .join(ChannelAddress, ChannelAddress.patient_id == Patient.id)
            .where(ChannelAddress.channel == channel, ChannelAddress.address == address)
        )
        assert patient is not None
        return patient
