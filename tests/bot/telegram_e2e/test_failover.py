"""Channel failover with consent: block -> SMS -> unblock, each switch in the timeline, the clinic told when
no channel is left. SMS consent comes from the phone: the number typed at sign-up replies YES to our signed
Twilio webhook first.

The real `TelegramChannel` and dialog engine against the fake Bot API; the real dispatcher with the Telegram
sender (same fake) and the SMS sender (the real twilio client against the fake Twilio); the production
renderer. On SQLite and, with TEST_DATABASE_URL, PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.alerts import Alert
from care.clock import FakeClock
from care.plan import ReminderPlan
from jobs.dispatcher import NO_CHANNEL_ERROR, Dispatcher
from jobs.followups import run_followups
from storage.models import (
    AddressState,
    AuditLog,
    Channel,
    ChannelAddress,
    CheckIn,
    CheckInReason,
    MessageStatus,
    Patient,
)
from tests.bot.telegram_e2e.harness import Bot, SignUp, sign_up_as
from tests.bot.telegram_e2e.phones import patient_of_chat, phones, send_next
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio

WITH_PHONE, WITHOUT_PHONE = SignUp(4), SignUp(2)  # patient 4 gives a number, patient 2 does not


class Recorder:
    """Our own alert port's fake."""

    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    async def alert(self, alert: Alert) -> None:
        self.alerts.append(alert)


def _kicked(chat_id: int, blocked: bool) -> dict[str, object]:
    me = {"id": 7_000_001, "is_bot": True, "first_name": "Ocrebot"}
    states = ({"status": "member", "user": me}, {"status": "kicked", "user": me, "until_date": 0})
    old, new = states if blocked else states[::-1]
    return {
        "my_chat_member": {
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Ana"},
            "date": 1,
            "old_chat_member": old,
            "new_chat_member": new,
        }
    }


async def _state(sessions: async_sessionmaker[AsyncSession], chat_id: int) -> AddressState:
    async with sessions() as session:
        state = await session.scalar(
            select(ChannelAddress.state).where(ChannelAddress.address == str(chat_id))
        )
        assert state is not None
        return state


async def _timeline(sessions: async_sessionmaker[AsyncSession], patient_id: int) -> list[tuple[str, dict]]:
    async with sessions() as session:
        rows = await session.scalars(
            select(AuditLog)
            .where(AuditLog.patient_id == patient_id, AuditLog.action.like("channel_%"))
            .order_by(AuditLog.id)
        )
        return [(row.action, row.detail) for row in rows]


async def _signed_up_with_sms(
    bot: Bot,
    twilio: FakeTwilio,
    sessions: async_sessionmaker[AsyncSession],
    plan: ReminderPlan,
    clock: FakeClock,
) -> Patient:
    """Signs WITH_PHONE up in Telegram, then their phone replies YES: SMS is on."""
    await sign_up_as(bot.user(WITH_PHONE.chat_id, WITH_PHONE.language), WITH_PHONE)
    assert not (await patient_of_chat(sessions, WITH_PHONE.chat_id)).sms_consent  # typed, not yet confirmed
    assert WITH_PHONE.phone is not None
    async with phones(sessions, plan, clock, twilio) as phone:
        [answer] = await phone(WITH_PHONE.phone).text("yes")
    assert "Thanks" in answer
    patient = await patient_of_chat(sessions, WITH_PHONE.chat_id)
    assert patient.sms_consent
    return patient


async def test_a_blocked_chat_switches_to_sms_at_once_and_a_new_start_switches_back(
    bot: Bot,
    dispatcher: Dispatcher,
    twilio: FakeTwilio,
    sessions: async_sessionmaker[AsyncSession],
    plan: ReminderPlan,
    clock: FakeClock,
) -> None:
    user = bot.user(WITH_PHONE.chat_id, WITH_PHONE.language)
    patient = await _signed_up_with_sms(bot, twilio, sessions, plan, clock)

    await user.push(_kicked(WITH_PHONE.chat_id, blocked=True))
    assert await _state(sessions, WITH_PHONE.chat_id) is AddressState.BLOCKED  # before any send failed
    telegram_before = len(bot.sent_to(WITH_PHONE.chat_id))

    by_sms = await send_next(sessions, dispatcher, clock, patient.id)

    assert (by_sms.status, by_sms.channel) == (MessageStatus.SENT, Channel.SMS)
    assert [m["to"] for m in twilio.sent] == [WITH_PHONE.phone.replace(" ", "")]
    assert len(bot.sent_to(WITH_PHONE.chat_id)) == telegram_before

    await user.send("/start")
    assert await _state(sessions, WITH_PHONE.chat_id) is AddressState.ACTIVE
    by_telegram = await send_next(sessions, dispatcher, clock, patient.id)

    assert (by_telegram.status, by_telegram.channel) == (MessageStatus.SENT, Channel.TELEGRAM)
    assert len(twilio.sent) == 1
    assert await _timeline(sessions, patient.id) == [
        (
            "channel_blocked",
            {"channel": "telegram", "cause": "telegram: the patient blocked the bot", "now_via": ["sms"]},
        ),
        (
            "channel_restored",
            {
                "channel": "telegram",
                "cause": "telegram: the patient wrote again (/start)",
                "now_via": ["telegram", "sms"],
            },
        ),
    ]


async def test_a_403_on_send_marks_the_chat_blocked_and_the_same_message_goes_by_sms(
    bot: Bot,
    fake: FakeTelegram,
    dispatcher: Dispatcher,
    twilio: FakeTwilio,
    sessions: async_sessionmaker[AsyncSession],
    plan: ReminderPlan,
    clock: FakeClock,
) -> None:
    patient = await _signed_up_with_sms(bot, twilio, sessions, plan, clock)
    fake.blocked_chats.add(WITH_PHONE.chat_id)  # blocked without Telegram telling us

    row = await send_next(sessions, dispatcher, clock, patient.id)

    assert (row.status, row.channel) == (MessageStatus.SENT, Channel.SMS)
    assert len(twilio.sent) == 1
    assert await _state(sessions, WITH_PHONE.chat_id) is AddressState.BLOCKED
    [(action, detail)] = await _timeline(sessions, patient.id)
    assert (action, detail["cause"], detail["now_via"]) == (
        "channel_blocked",
        "telegram refused a send: blocked",
        ["sms"],
    )


async def test_with_no_sms_consent_a_block_flags_the_clinic_once_and_a_new_start_clears_it(
    bot: Bot,
    dispatcher: Dispatcher,
    twilio: FakeTwilio,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    user = bot.user(WITHOUT_PHONE.chat_id, WITHOUT_PHONE.language)
    await sign_up_as(user, WITHOUT_PHONE)
    patient = await patient_of_chat(sessions, WITHOUT_PHONE.chat_id)
    alerter = Recorder()

    await user.push(_kicked(WITHOUT_PHONE.chat_id, blocked=True))
    await run_followups(sessions, clock, alerter, clock.now())
    failed = await send_next(sessions, dispatcher, clock, patient.id)
    await run_followups(sessions, clock, alerter, clock.now())

    assert (failed.status, failed.last_error) == (MessageStatus.FAILED, NO_CHANNEL_ERROR)
    assert twilio.sent == []
    assert [(a.reason, a.patient_id) for a in alerter.alerts] == [("unreachable", patient.id)]  # once
    async with sessions() as session:
        [flag] = await session.scalars(select(CheckIn).where(CheckIn.reason == CheckInReason.UNREACHABLE))
    assert flag.flagged and flag.acknowledged_at is None and flag.alerted_at is not None

    await user.send("/start")

    async with sessions() as session:
        flag = await session.get_one(CheckIn, flag.id)
    assert flag.acknowledged_at is not None and flag.ack_note == "cleared: reachable again by telegram"
    assert [action for action, _ in await _timeline(sessions, patient.id)] == [
        "channel_blocked",
        "channel_restored",
    ]
