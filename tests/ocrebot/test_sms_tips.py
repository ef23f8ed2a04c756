"""Weekly tips by SMS, through Twilio's signed webhook and the real twilio client against the fake Twilio:
TIPS turns them on (the first written at once), TIPS OFF (or CONSEJOS NO) turns them off, and the tip goes
out in two segments ending with how to stop."""

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
