"""Weekly tips and questions by SMS, through Twilio's signed webhook and the real twilio client against the
fake Twilio: TIPS turns tips on (the first written at once), TIPS OFF (or CONSEJOS NO) turns them off, and the
tip goes out in two segments ending with how to stop; a question the library cannot answer says so."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.sms import STATUS_CALLBACK_PATH, SmsSender
from bot.sms_text import count_segments
from care.clock import FakeClock
from care.plan import ReminderPlan, load_plan
from jobs.tips import run_tips
from storage.models import Channel, ChannelAddress, MessageStatus, Patient, ScheduledMessage
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.ocrebot.test_twilio_webhooks import dispatcher_for, sign_up_by_sms
from tests.ocrebot.twilio_app import PUBLIC, START, SmsPhone, build_app, client_for, sms_settings

NUMBER = "+34600123456"
FIRST_TIP = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # Tuesday 11:00 in Madrid


@pytest.fixture(scope="module")
def plan() -> ReminderPlan:
    return load_plan()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    server = FakeTwilio()
    await server.start()
    yield server
    await server.stop()
    assert server.violations == [], server.calls


@pytest.fixture
async def phone(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan, clock: FakeClock, twilio: FakeTwilio
) -> AsyncIterator[SmsPhone]:
    async with client_for(build_app(sessions, plan, clock, sms_settings())) as http:
        yield SmsPhone(http, twilio, NUMBER)


@pytest.fixture
async def sender(twilio: FakeTwilio) -> AsyncIterator[SmsSender]:
    sender = SmsSender(
        ACCOUNT_SID,
        AUTH_TOKEN,
        from_number=FROM_NUMBER,
        api_base_url=twilio.base_url,
        status_callback_url=PUBLIC + STATUS_CALLBACK_PATH,
    )
    yield sender
    await sender.aclose()


async def _patient(sessions: async_sessionmaker[AsyncSession]) -> Patient:
    async with sessions() as session:
        patient = await session.scalar(
            select(Patient)
            .join(ChannelAddress, ChannelAddress.patient_id == Patient.id)
            .where(ChannelAddress.channel == Channel.SMS, ChannelAddress.address == NUMBER)
        )
    assert patient is not None
    return patient


async def _tips(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[MessageStatus, datetime]]:
    patient = await _patient(sessions)
    async with sessions() as session:
        rows = await session.scalars(
            select(ScheduledMessage)
            .where(ScheduledMessage.patient_id == patient.id, ScheduledMessage.kind == "tip")
            .order_by(ScheduledMessage.id)
        )
        return [(row.status, row.due_at) for row in rows]


def _fits(answer: list[str]) -> None:
    assert answer and all(count_segments(body).count <= 2 for body in answer), answer


async def test_tips_by_sms_turn_on_write_the_first_and_it_goes_in_two_segments(
    phone: SmsPhone,
    twilio: FakeTwilio,
    sender: SmsSender,
    sessions: async_sessionmaker[AsyncSession],
    plan: ReminderPlan,
    clock: FakeClock,
) -> None:
    await sign_up_by_sms(phone)
    answer = await phone.text("Tips")
    _fits(answer)
    assert phone.said == "Weekly tips are on. The first comes on 1 December 2026. Text TIPS OFF to stop them."
    assert await _tips(sessions) == [(MessageStatus.PENDING, FIRST_TIP)]
    await run_tips(sessions, START, quiet_hours=plan.quiet_hours, slot=plan.tip_slot)  # the job: no double
    assert await _tips(sessions) == [(MessageStatus.PENDING, FIRST_TIP)]

    clock.set(FIRST_TIP)
    before = len(twilio.sent)
    report = await (await dispatcher_for(sessions, plan, clock, sender)).run_once(FIRST_TIP)
    [tip] = twilio.sent[before:]
    assert report.sent >= 1 and tip["to"] == NUMBER
    assert tip["body"].startswith("Weekly tip: Ocrevus (ocrelizumab)")
    assert tip["body"].endswith("Reply TIPS OFF to stop tips.")
    assert count_segments(tip["body"]).count <= 2


@pytest.mark.parametrize("word", ["TIPS OFF", "tips off.", "Tipsoff"])
async def test_tips_off_by_sms_cancels_the_pending_tip(
    phone: SmsPhone, sessions: async_sessionmaker[AsyncSession], word: str
) -> None:
    await sign_up_by_sms(phone)
    await phone.text("TIPS")
    _fits(await phone.text(word))
    assert phone.said == "Weekly tips are off. Text TIPS to turn them back on."
    assert await _tips(sessions) == [(MessageStatus.CANCELLED, FIRST_TIP)]
    assert (await _patient(sessions)).weekly_tips is False


async def test_the_spanish_aliases_switch_tips_and_answer_in_spanish(
    phone: SmsPhone, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await sign_up_by_sms(phone)
    await phone.text("ESPANOL")
    _fits(await phone.text("Consejos"))
    assert phone.said.startswith(
        "Consejos semanales activados. El primero llegara el 1 de diciembre de 2026."
    )
    assert "CONSEJOS NO" in phone.said
    _fits(await phone.text("consejos no"))
    assert phone.said.startswith("Consejos semanales desactivados.")
    assert await _tips(sessions) == [(MessageStatus.CANCELLED, FIRST_TIP)]


# questions in words by SMS ------------------------------------------------------------------------------


async def test_an_unknown_question_by_sms_says_so_and_lists_topics_in_two_segments(phone: SmsPhone) -> None:
    await sign_up_by_sms(phone)
    answer = await phone.text("what's the weather like in Madrid?")
    _fits(answer)
    assert phone.said.startswith("Sorry, I don't know that one. Unwell? Call your clinic.")
    assert "ask your care team" in phone.said.casefold() and "Call emergency services" in phone.said
    assert "Reply 1 for What Ocrevus is" in phone.said and "/learn" not in phone.said
    _fits(await phone.text("1"))
    assert phone.said.startswith("Ocrevus (ocrelizumab)") and "Sources" not in phone.said


async def test_an_unknown_question_by_sms_in_spanish_is_answered_in_spanish(phone: SmsPhone) -> None:
    await sign_up_by_sms(phone)
    await phone.text("ESPANOL")
    _fits(await phone.text("que tiempo hace hoy?"))
    assert phone.said.startswith("Lo siento, no lo sé. ¿Estas mal? Llama a tu clinica.")  # folded to GSM-7
    assert "equipo médico" in phone.said and "emergencias" in phone.said and "Responde 1 para" in phone.said


async def test_by_sms_a_number_after_learn_picks_the_topic_or_the_next_page(phone: SmsPhone) -> None:
    await sign_up_by_sms(phone)
    _fits(await phone.text("LEARN"))
    assert "(page 1 of 9)" in phone.said and "4 for More topics" in phone.said
    _fits(await phone.text("4"))
    assert "(page 2 of 9)" in phone.said and "1 for Emergency or clinic: who to call" in phone.said
    _fits(await phone.text("1."))
    assert "emergency services" in phone.said and "Reply 1" not in phone.said  # the topic's SMS text
    await phone.text("hello there")  # not a number: the list is forgotten, small talk gets the menu
    await phone.text("2")
    assert phone.said.startswith("Sorry, I don't know that one")  # "2" was a question, not a pick
