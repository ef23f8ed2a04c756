"""A patient who signed up by SMS gets a Telegram chat linked by an operator's link invite: the real PTB
Application against the fake Bot API, the SMS sign-up through our signed Twilio webhook, the console's
`make_invite`, and the real dispatcher (Telegram and the real twilio client against the fake Twilio).
On SQLite and, with TEST_DATABASE_URL, PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin.enroll import make_invite
from care.clock import FakeClock
from care.plan import ReminderPlan
from jobs.dispatcher import Dispatcher
from storage.models import (
    AddressState,
    Channel,
    ChannelAddress,
    MessageStatus,
    Operator,
    OperatorRole,
    Patient,
    PatientStatus,
)
from tests.bot.telegram_e2e.harness import Bot
from tests.bot.telegram_e2e.phones import phones, send_next
from tests.fakes.twilio_api import FakeTwilio

PHONE, CHAT = "+34600555444", 7401


async def test_an_sms_patient_linked_by_invite_gets_the_next_reminder_in_telegram(
    bot: Bot,
    dispatcher: Dispatcher,
    twilio: FakeTwilio,
    sessions: async_sessionmaker[AsyncSession],
    plan: ReminderPlan,
    clock: FakeClock,
) -> None:
    async with phones(sessions, plan, clock, twilio) as phone:
        texting = phone(PHONE)
        for body in (
            "JOIN",
            "YES",
            "Ana",
            "Madrid",
            "yes",
            "1",
            "3",
            "3 June",
            "12 March 9:30",
            "La Paz",
            "1",
        ):
            await texting.text(body)
        assert "all set" in texting.said, texting.said
    async with sessions() as session:
        patient = await session.scalar(
            select(Patient).join(ChannelAddress).where(ChannelAddress.address == PHONE)
        )
        assert patient is not None and patient.status is PatientStatus.ACTIVE and patient.sms_consent
        operator = Operator(
            email="nurse@clinic.example",
            password_hash="-",
            role=OperatorRole.OPERATOR,
            created_at=clock.now(),
        )
        session.add(operator)
        await session.commit()
    by_sms = await send_next(sessions, dispatcher, clock, patient.id)
    assert (by_sms.status, by_sms.channel) == (MessageStatus.SENT, Channel.SMS)
    texted = len(twilio.sent)

    invite = await make_invite(sessions, patient.id, operator_id=operator.id, now=clock.now())
    user = bot.user(CHAT, "en")
    await user.send(f"/start {invite.code}")
    assert user.text == "Linked. Your reminders will come here now."

    by_telegram = await send_next(sessions, dispatcher, clock, patient.id)
    assert (by_telegram.status, by_telegram.channel) == (MessageStatus.SENT, Channel.TELEGRAM)
    assert len(twilio.sent) == texted and len(bot.sent_to(CHAT)) == 2  # the "Linked" reply, the reminder
    async with sessions() as session:
        states = dict(
            (await session.execute(select(ChannelAddress.channel, ChannelAddress.state))).tuples().all()
        )
        stored = await session.get_one(Patient, patient.id)
    assert states == {Channel.SMS: AddressState.ACTIVE, Channel.TELEGRAM: AddressState.ACTIVE}
    assert stored.sms_consent  # SMS stays on as the fallback
