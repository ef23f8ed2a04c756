"""A number typed at Telegram sign-up gets reminders only once that phone replies YES.

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

from bot.channels import sms_in
from bot.channels.sms import SmsSender
from bot.channels.telegram_out import TelegramSender, create_bot
from care.clock import FakeClock
from care.plan import ReminderPlan
from care.triage import load_policy
from jobs.dispatcher import Dispatcher
from jobs.render import OutboxRenderer
from storage.models import AuditLog, Channel, ChannelAddress, MessageStatus, Patient, ScheduledMessage
from storage.outbox import SMS_CONFIRM
from tests.bot.telegram_e2e.harness import Bot, SignUp, sign_up_as
from tests.bot.telegram_e2e.phones import phones
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio

EN = SignUp(4)  # patient 4 answers in English and gives a number
HEALTH_WORDS = ("MS", "EM", "sclerosis", "esclerosis", "Ocrevus", "ocrelizumab", "infusion", "infusión")


class _Spanish(SignUp):
    """Patient 13 answering in Spanish, with a number."""

    @property
    def phone(self) -> str | None:
        return "+34 600000013"


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
    patient = await _patient(sessions, EN.chat_id)
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
    failed = await _send_next_reminder(sessions, dispatcher, clock, patient.id)
    assert failed.status is MessageStatus.FAILED and len(twilio.sent) == 1

    async with phones(sessions, plan, clock, twilio) as phone:
        [answer] = await phone(EN.phone).text("Yes! 👍")
    assert "Thanks" in answer and "STOP" in answer
    patient = await _patient(sessions, EN.chat_id)
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
    by_sms = await _send_next_reminder(sessions, dispatcher, clock, patient.id)
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
    assert (await _patient(sessions, spanish.chat_id)).sms_consent


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
    patient = await _patient(sessions, EN.chat_id)

    async with phones(sessions, plan, clock, twilio) as phone:
        stranger = phone(EN.phone)
        for body in ("who is this?", "NEXT", "help me"):  # no dialog: the question again, nothing of anyone
            assert await stranger.text(body) == [sms_in.say("en", "awaiting_yes")]
        [help_answer] = await stranger.text("HELP")  # the carrier keyword is answered, naming no program
        assert "STOP" in help_answer and "YES" in help_answer
        assert "Ocrebot" not in help_answer and not set(HEALTH_WORDS) & set(help_answer.split())
        assert await stranger.text("STOP") == []  # Twilio confirms the opt-out itself
        assert await stranger.text("YES") == []  # an opted-out number: START first
    patient = await _patient(sessions, EN.chat_id)
    assert not patient.sms_consent

    fake.blocked_chats.add(EN.chat_id)
    failed = await _send_next_reminder(sessions, dispatcher, clock, patient.id)
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

    patient = await _patient(sessions, EN.chat_id)
    [row] = await _rows(sessions, patient.id, SMS_CONFIRM)
    assert row.status is MessageStatus.CANCELLED and report.claimed == 0
    assert twilio.sent == [] and len(sms_bot.sent_to(EN.chat_id)) == telegram_before


async def test_without_sms_configured_no_request_is_queued_and_none_is_promised(
    bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = bot.user(EN.chat_id, EN.language)
    await sign_up_as(user, EN)
    assert "You're all set" in user.text and "YES" not in user.text
    patient = await _patient(sessions, EN.chat_id)
    assert not patient.sms_consent and await _rows(sessions, patient.id, SMS_CONFIRM) == []
