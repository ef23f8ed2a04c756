"""The phones of Telegram patients texting our Twilio webhook: the real router and dialog engine on the same
database, each post signed as Twilio signs it (`tests.ocrebot.twilio_app`); and the look-ups and the
clock step the SMS tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from care.clock import FakeClock
from care.plan import ReminderPlan
from jobs.dispatcher import Dispatcher
from storage.models import ChannelAddress, MessageStatus, Patient, ScheduledMessage
from tests.fakes.twilio_api import FakeTwilio
from tests.ocrebot.twilio_app import SmsPhone, build_app, client_for, sms_settings


@asynccontextmanager
async def phones(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan, clock: FakeClock, twilio: FakeTwilio
) -> AsyncIterator[Callable[[str], SmsPhone]]:
    """Yields `phone(number)`: the phone with that number ("+34 6..." as typed at sign-up is fine)."""
    app = build_app(sessions, plan, clock, sms_settings(twilio_api_base_url=twilio.base_url))
    async with client_for(app) as http:
        yield lambda number: SmsPhone(http, twilio, number.replace(" ", ""))


async def patient_of_chat(sessions: async_sessionmaker[AsyncSession], chat_id: int) -> Patient:
    """Returns the patient the Telegram chat belongs to."""
    async with sessions() as session:
        patient = await session.scalar(
            select(Patient)
            .join(ChannelAddress, ChannelAddress.patient_id == Patient.id)
            .where(ChannelAddress.address == str(chat_id))
        )
        assert patient is not None
        return patient


async def send_next(
    sessions: async_sessionmaker[AsyncSession],
    dispatcher: Dispatcher,
    clock: FakeClock,
    patient_id: int,
    *,
    planned: bool = False,
) -> ScheduledMessage:
    """Moves the clock to the patient's next pending row (`planned`: a plan's, not a confirmation request),
    dispatches, and returns the row as stored."""
    query = select(ScheduledMessage).where(
        ScheduledMessage.patient_id == patient_id, ScheduledMessage.status == MessageStatus.PENDING
    )
    if planned:
        query = query.where(ScheduledMessage.touchpoint_id.is_not(None))
    async with sessions() as session:
        row = await session.scalar(query.order_by(ScheduledMessage.due_at).limit(1))
    assert row is not None
    clock.set(max(clock.now(), row.due_at) + timedelta(seconds=1))
    await dispatcher.run_once(clock.now())
    async with sessions() as session:
        return await session.get_one(ScheduledMessage, row.id)
