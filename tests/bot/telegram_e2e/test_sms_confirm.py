"""A number typed at Telegram sign-up gets reminders only once that phone replies YES.

The real `TelegramChannel` and dialog engine (SMS configured) against the fake Bot API; the real dispatcher
with the Telegram sender and the SMS sender (the real twilio client against the fake Twilio); the phone
texting our signed Twilio webhook. On SQLite and, with TEST_DATABASE_URL, PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels import sms_in
from care.clock import FakeClock
from care.plan import ReminderPlan
from jobs.dispatcher import Dispatcher
from storage.models import AuditLog, Channel, MessageStatus, ScheduledMessage
from storage.outbox import SMS_CONFIRM
from tests.bot.telegram_e2e.harness import Bot, SignUp, sign_up_as
from tests.bot.telegram_e2e.phones import patient_of_chat, phones, send_next
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio

EN = SignUp(4)  # patient 4 answers in English and gives a number
HEALTH_WORDS = ("MS", "EM", "sclerosis", "esclerosis", "Ocrevus", "ocrelizumab", "infusion", "infusión")


class _Spanish(SignUp):
    """Patient 13 answering in Spanish, with a number."""

    @property
    def phone(self) -> str | None:
        return "+34 600000013"


async def _rows(
    sessions: async_sessionmaker[AsyncSession], patient_id: int, kind: str
) -> list[ScheduledMessage]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(ScheduledMessage).where(
                    ScheduledMessage.patient_id == patient_id, ScheduledMessage.kind == kind
                )
            )
        )


async def test_a_typed_number_gets_one_confirmation_and_no_reminder_until_it_replies_yes(
    sms_bot: Bot,
    fake: FakeTelegram,
    dispatcher: Dispatcher,
    twilio: FakeTwilio,
    sessions: async_sessionmaker[AsyncSession],
    plan: ReminderPlan,
    clock: FakeClock,
) -> None:
    user = sms_bot.user(EN.chat_id, EN.language)
    await sign_up_as(user, EN)
    assert "You're all set" in user.text and "Reply YES from that phone" in user.text
    assert "+34 6" in user.text or "+346" in user.text
    await user.tap("confirm")  # a second tap on the summary's button: sign-up is not done twice
    patient = await patient_of_chat(sessions, EN.chat_id)
    assert not patient.sms_consent

    await dispatcher.run_once(clock.now())
    await dispatcher.run_once(clock.now())
    assert EN.phone is not None
    number = EN.phone.replace(" ", "")
    [request] = twilio.sent
    assert request["to"] == number and "reply YES" in request["body"] and "STOP" in request["body"]
    for word in HEALTH_WORDS:  # a mistyped number learns nothing about anyone's health
        assert word not in request["body"].split() and word.lower() not in request["body"].lower().split()
    [row] = await _rows(sessions, patient.id, SMS_CONFIRM)
    assert (row.status, row.channel) == (MessageStatus.SENT, Channel.SMS)

    fake.blocked_chats.add(EN.chat_id)  # Telegram gone: an unconfirmed number is no way round it
    failed = await send_next(sessions, dispatcher, clock, patient.id, planned=True)
    assert failed.status is MessageStatus.FAILED and len(twilio.sent) == 1

    async with phones(sessions, plan, clock, twilio) as phone:
        [answer] = await phone(EN.phone).text("Yes! 👍")
    assert "Thanks" in answer and "STOP" in answer
    patient = await patient_of_chat(sessions, EN.chat_id)
    assert patient.sms_consent
    async with sessions() as session:
        [entry] = await session.scalars(
            select(AuditLog).where(AuditLog.patient_id == patient.id, AuditLog.action == "sms_confirmed")
        )
    assert entry.detail == {
        "channel": "sms",
        "cause": "sms: the phone replied YES to the confirmation",
        "now_via": ["sms"],  # Telegram is blocked: SMS is all there is
    }
    by_sms = await send_next(sessions, dispatcher, clock, patient.id, planned=True)
    assert (by_sms.status, by_sms.channel) == (MessageStatus.SENT, Channel.SMS)
    assert [m["to"] for m in twilio.sent] == [number, number]


async def test_a_spanish_patient_is_told_in_spanish_and_the_phone_says_si(
    sms_bot: Bot,
    dispatcher: Dispatcher,
    twilio: FakeTwilio,
    sessions: async_sessionmaker[AsyncSession],
    plan: ReminderPlan,
    clock: FakeClock,
) -> None:
    spanish = _Spanish(13)
    user = sms_bot.user(spanish.chat_id, spanish.language)
    await sign_up_as(user, spanish)
    assert "Responde SÍ desde ese teléfono" in user.text and "Telegram" in user.text
    await dispatcher.run_once(clock.now())
    [request] = twilio.sent
    assert "responde SI" in request["body"] and "STOP" in request["body"]  # folded to GSM-7 when sent

    async with phones(sessions, plan, clock, twilio) as phone:
        [answer] = await phone("+34600000013").text("sí.")
    assert "Gracias" in answer
    assert (await patient_of_chat(sessions, spanish.chat_id)).sms_consent


async def test_a_strangers_stop_cancels_the_request_and_nothing_more_goes_there(
    sms_bot: Bot,
    fake: FakeTelegram,
    dispatcher: Dispatcher,
    twilio: FakeTwilio,
    sessions: async_sessionmaker[AsyncSession],
    plan: ReminderPlan,
    clock: FakeClock,
) -> None:
    user = sms_bot.user(EN.chat_id, EN.language)
    await sign_up_as(user, EN)
    assert EN.phone is not None
    await dispatcher.run_once(clock.now())
    assert len(twilio.sent) == 1
    patient = await patient_of_chat(sessions, EN.chat_id)

    async with phones(sessions, plan, clock, twilio) as phone:
        stranger = phone(EN.phone)
        for body in ("who is this?", "NEXT", "help me"):  # no dialog: the question again, nothing of anyone
            assert await stranger.text(body) == [sms_in.say("en", "awaiting_yes")]
        [help_answer] = await stranger.text("HELP")  # the carrier keyword is answered, naming no program
        assert "STOP" in help_answer and "YES" in help_answer
        assert "Ocrebot" not in help_answer and not set(HEALTH_WORDS) & set(help_answer.split())
        assert await stranger.text("STOP") == []  # Twilio confirms the opt-out itself
        assert await stranger.text("YES") == []  # an opted-out number: START first
    patient = await patient_of_chat(sessions, EN.chat_id)
    assert not patient.sms_consent

    fake.blocked_chats.add(EN.chat_id)
    failed = await send_next(sessions, dispatcher, clock, patient.id, planned=True)
    assert failed.status is MessageStatus.FAILED and len(twilio.sent) == 1  # only the request, ever


async def test_stop_before_the_request_went_cancels_it_and_telegram_never_gets_it(
    sms_bot: Bot,
    dispatcher: Dispatcher,
    twilio: FakeTwilio,
    sessions: async_sessionmaker[AsyncSession],
    plan: ReminderPlan,
    clock: FakeClock,
) -> None:
    user = sms_bot.user(EN.chat_id, EN.language)
    await sign_up_as(user, EN)
    assert EN.phone is not None
    telegram_before = len(sms_bot.sent_to(EN.chat_id))
    async with phones(sessions, plan, clock, twilio) as phone:
        await phone(EN.phone).text("Stop")
    report = await dispatcher.run_once(clock.now())

    patient = await patient_of_chat(sessions, EN.chat_id)
    [row] = await _rows(sessions, patient.id, SMS_CONFIRM)
    assert row.status is MessageStatus.CANCELLED and report.claimed == 0
    assert twilio.sent == [] and len(sms_bot.sent_to(EN.chat_id)) == telegram_before


async def test_without_sms_configured_no_request_is_queued_and_none_is_promised(
    bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = bot.user(EN.chat_id, EN.language)
    await sign_up_as(user, EN)
    assert "You're all set" in user.text and "YES" not in user.text
    patient = await patient_of_chat(sessions, EN.chat_id)
    assert not patient.sms_consent and await _rows(sessions, patient.id, SMS_CONFIRM) == []
