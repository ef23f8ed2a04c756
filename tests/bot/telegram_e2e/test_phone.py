"""/phone after sign-up: the SMS backup number added, changed or removed, end to end.

The real `TelegramChannel` and dialog engine (SMS configured) against the fake Bot API; the real dispatcher
with the Telegram sender and the SMS sender (the real twilio client against the fake Twilio); the phone
texting our signed Twilio webhook. On SQLite and, with TEST_DATABASE_URL, PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.sms import SmsSender
from bot.channels.telegram_out import TelegramSender, create_bot
from care.clock import FakeClock
from care.plan import ReminderPlan
from care.triage import load_policy
from jobs.dispatcher import Dispatcher
from jobs.render import OutboxRenderer
from storage.models import Channel, ChannelAddress, MessageStatus, Patient, ScheduledMessage
from tests.bot.telegram_e2e.harness import Bot, SignUp, User, sign_up_as
from tests.bot.telegram_e2e.phones import phones
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio

NO_NUMBER = SignUp(2)  # English, skips the number at sign-up
WITH_NUMBER = SignUp(4)  # English, gives +34 600000004 at sign-up
NEW = "+34600000099"


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    server = FakeTwilio()
    await server.start()
    yield server
    await server.stop()
    assert server.violations == [], server.calls


@pytest.fixture
async def sms_bot(
    fake: FakeTelegram, sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan, clock: FakeClock
) -> AsyncIterator[Bot]:
    running = Bot(fake, sessions, plan, clock, sms_enabled=True)
    await running.start()
    yield running
    await running.stop()
    assert running.errors == [], f"errors reached the Application: {running.errors!r}"


@pytest.fixture
async def dispatcher(
    fake: FakeTelegram,
    twilio: FakeTwilio,
    sessions: async_sessionmaker[AsyncSession],
    plan: ReminderPlan,
    clock: FakeClock,
) -> AsyncIterator[Dispatcher]:
    sms = SmsSender(ACCOUNT_SID, AUTH_TOKEN, from_number=FROM_NUMBER, api_base_url=twilio.base_url)
    async with create_bot(fake.token, fake.base_url) as bot:
        senders = {Channel.TELEGRAM: TelegramSender(bot, chat_per_s=100, chat_burst=10), Channel.SMS: sms}
        renderer = OutboxRenderer(clock, load_policy(), None)
        yield Dispatcher(sessions, senders, plan, renderer, clock, "confirm")
    await sms.aclose()


async def _patient(sessions: async_sessionmaker[AsyncSession], chat_id: int) -> Patient:
    async with sessions() as session:
        patient = await session.scalar(
            select(Patient)
            .join(ChannelAddress, ChannelAddress.patient_id == Patient.id)
            .where(ChannelAddress.address == str(chat_id))
        )
        assert patient is not None
        return patient


async def _send_next_reminder(
    sessions: async_sessionmaker[AsyncSession], dispatcher: Dispatcher, clock: FakeClock, patient_id: int
) -> ScheduledMessage:
    """Moves the clock to the patient's next pending plan row, dispatches, and returns the row as stored."""
    async with sessions() as session:
        row = await session.scalar(
            select(ScheduledMessage)
            .where(
                ScheduledMessage.patient_id == patient_id,
                ScheduledMessage.status == MessageStatus.PENDING,
                ScheduledMessage.touchpoint_id.is_not(None),
            )
            .order_by(ScheduledMessage.due_at)
            .limit(1)
        )
    assert row is not None
    clock.set(max(clock.now(), row.due_at) + timedelta(seconds=1))
    await dispatcher.run_once(clock.now())
    async with sessions() as session:
        return await session.get_one(ScheduledMessage, row.id)


async def _share_number(user: User, number: str) -> None:
    """Changes the number with the "share my number" button (Telegram sends the contact's digits only)."""
    await user.send("/phone")
    await user.tap("change")
    keyboard = user.last[-1]["reply_markup"]
    assert keyboard["keyboard"] == [
        [{"text": "Share my number", "request_contact": True}],
        [{"text": "Cancel"}],
    ]
    contact = {"phone_number": number.removeprefix("+"), "first_name": "Ana", "user_id": user.chat_id}
    await user.post(contact=contact)
    assert "Reply YES from that phone" in user.text, user.text
    assert user.last[-1].get("reply_markup") == {"remove_keyboard": True}  # the share button goes away


async def test_a_number_added_after_sign_up_is_confirmed_by_its_yes_and_then_takes_over(
    sms_bot: Bot,
    fake: FakeTelegram,
    dispatcher: Dispatcher,
    twilio: FakeTwilio,
    sessions: async_sessionmaker[AsyncSession],
    plan: ReminderPlan,
    clock: FakeClock,
) -> None:
    user = sms_bot.user(NO_NUMBER.chat_id, NO_NUMBER.language)
    await sign_up_as(user, NO_NUMBER)
    await user.send("/phone")
    assert "no number for text messages" in user.text and user.keys == ["change", "keep"]
    await user.tap("change")
    await user.post(sticker={"file_id": "s1", "file_unique_id": "u1", "type": "regular", "width": 1,
                             "height": 1, "is_animated": False, "is_video": False})  # fmt: skip
    assert "I can only read text messages" in user.text and "country code" in user.text
    await user.send("my number is secret")
    assert "doesn't look like a phone number" in user.text
    await user.send(NEW)
    assert "Reply YES from that phone" in user.text

    await dispatcher.run_once(clock.now())
    [request] = twilio.sent
    assert request["to"] == NEW and "reply YES" in request["body"]
    async with phones(sessions, plan, clock, twilio) as phone:
        [answer] = await phone(NEW).text("YES")
    assert "Thanks" in answer
    patient = await _patient(sessions, NO_NUMBER.chat_id)
    assert patient.sms_consent
    await user.send("/phone")
    assert NEW in user.text and "Texts are on" in user.text

    fake.blocked_chats.add(NO_NUMBER.chat_id)  # Telegram gone: the reminder fails over to the new number
    by_sms = await _send_next_reminder(sessions, dispatcher, clock, patient.id)
    assert (by_sms.status, by_sms.channel) == (MessageStatus.SENT, Channel.SMS)
    assert [m["to"] for m in twilio.sent] == [NEW, NEW]


async def test_after_a_change_the_old_number_gets_nothing_more(
    sms_bot: Bot,
    fake: FakeTelegram,
    dispatcher: Dispatcher,
    twilio: FakeTwilio,
    sessions: async_sessionmaker[AsyncSession],
    plan: ReminderPlan,
    clock: FakeClock,
) -> None:
    assert WITH_NUMBER.phone is not None
    old = WITH_NUMBER.phone.replace(" ", "")
    user = sms_bot.user(WITH_NUMBER.chat_id, WITH_NUMBER.language)
    await sign_up_as(user, WITH_NUMBER)
    await dispatcher.run_once(clock.now())
    async with phones(sessions, plan, clock, twilio) as phone:
        await phone(old).text("YES")
    assert [m["to"] for m in twilio.sent] == [old]

    await _share_number(user, NEW)
    patient = await _patient(sessions, WITH_NUMBER.chat_id)
    assert not patient.sms_consent  # the new phone has not said YES yet
    await dispatcher.run_once(clock.now())
    assert [m["to"] for m in twilio.sent] == [old, NEW]

    fake.blocked_chats.add(WITH_NUMBER.chat_id)
    failed = await _send_next_reminder(sessions, dispatcher, clock, patient.id)
    assert failed.status is MessageStatus.FAILED  # neither the old number nor the unconfirmed new one
    async with phones(sessions, plan, clock, twilio) as phone:
        await phone(NEW).text("Yes")
    by_sms = await _send_next_reminder(sessions, dispatcher, clock, patient.id)
    assert (by_sms.status, by_sms.channel) == (MessageStatus.SENT, Channel.SMS)
    assert [m["to"] for m in twilio.sent] == [old, NEW, NEW]


async def test_after_removal_nothing_goes_by_sms(
    sms_bot: Bot,
    fake: FakeTelegram,
    dispatcher: Dispatcher,
    twilio: FakeTwilio,
    sessions: async_sessionmaker[AsyncSession],
    plan: ReminderPlan,
    clock: FakeClock,
) -> None:
    assert WITH_NUMBER.phone is not None
    old = WITH_NUMBER.phone.replace(" ", "")
    user = sms_bot.user(WITH_NUMBER.chat_id, WITH_NUMBER.language)
    await sign_up_as(user, WITH_NUMBER)
    await dispatcher.run_once(clock.now())
    async with phones(sessions, plan, clock, twilio) as phone:
        await phone(old).text("YES")

    await user.send("/phone")
    await user.tap("change")
    await user.send("Cancel")  # what the keyboard's other button types
    assert "nothing has changed" in user.text
    await user.send("/phone")
    await user.tap("remove")
    await user.tap("yes")
    assert "is removed" in user.text
    patient = await _patient(sessions, WITH_NUMBER.chat_id)
    assert not patient.sms_consent

    on_telegram = await _send_next_reminder(sessions, dispatcher, clock, patient.id)
    assert (on_telegram.status, on_telegram.channel) == (MessageStatus.SENT, Channel.TELEGRAM)
    fake.blocked_chats.add(WITH_NUMBER.chat_id)
    failed = await _send_next_reminder(sessions, dispatcher, clock, patient.id)
    assert failed.status is MessageStatus.FAILED
    assert [m["to"] for m in twilio.sent] == [old]  # only the request, before the removal
