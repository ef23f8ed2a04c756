"""/phone after sign-up: the SMS backup number added, changed or removed, end to end.

The real `TelegramChannel` and dialog engine (SMS configured) against the fake Bot API; the real dispatcher
with the Telegram sender and the SMS sender (the real twilio client against the fake Twilio); the phone
texting our signed Twilio webhook. On SQLite and, with TEST_DATABASE_URL, PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from care.clock import FakeClock
from care.plan import ReminderPlan
from jobs.dispatcher import Dispatcher
from storage.models import Channel, MessageStatus
from tests.bot.telegram_e2e.harness import Bot, SignUp, User, sign_up_as
from tests.bot.telegram_e2e.phones import patient_of_chat, phones, send_next
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio

NO_NUMBER = SignUp(2)  # English, skips the number at sign-up
WITH_NUMBER = SignUp(4)  # English, gives +34 600000004 at sign-up
NEW = "+34600000099"


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
    patient = await patient_of_chat(sessions, NO_NUMBER.chat_id)
    assert patient.sms_consent
    await user.send("/phone")
    assert NEW in user.text and "Texts are on" in user.text

    fake.blocked_chats.add(NO_NUMBER.chat_id)  # Telegram gone: the reminder fails over to the new number
    by_sms = await send_next(sessions, dispatcher, clock, patient.id, planned=True)
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
    patient = await patient_of_chat(sessions, WITH_NUMBER.chat_id)
    assert not patient.sms_consent  # the new phone has not said YES yet
    await dispatcher.run_once(clock.now())
    assert [m["to"] for m in twilio.sent] == [old, NEW]

    fake.blocked_chats.add(WITH_NUMBER.chat_id)
    failed = await send_next(sessions, dispatcher, clock, patient.id, planned=True)
    assert failed.status is MessageStatus.FAILED  # neither the old number nor the unconfirmed new one
    async with phones(sessions, plan, clock, twilio) as phone:
        await phone(NEW).text("Yes")
    by_sms = await send_next(sessions, dispatcher, clock, patient.id, planned=True)
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
    patient = await patient_of_chat(sessions, WITH_NUMBER.chat_id)
    assert not patient.sms_consent

    on_telegram = await send_next(sessions, dispatcher, clock, patient.id, planned=True)
    assert (on_telegram.status, on_telegram.channel) == (MessageStatus.SENT, Channel.TELEGRAM)
    fake.blocked_chats.add(WITH_NUMBER.chat_id)
    failed = await send_next(sessions, dispatcher, clock, patient.id, planned=True)
    assert failed.status is MessageStatus.FAILED
    assert [m["to"] for m in twilio.sent] == [old]  # only the request, before the removal
