"""/phone: a signed-up patient adds, changes or removes their number for texts (SMS), their backup channel."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dialog import DialogEngine
from care.clock import FakeClock
from care.plan import ReminderPlan
from storage import sms
from storage.models import AuditLog, Channel, ChannelAddress, MessageStatus, ScheduledMessage
from storage.outbox import SMS_CONFIRM
from tests.bot.dialog.helpers import Chat, patient_of, sign_up, snapshot

OLD, NEW = "+34600123456", "+34600654321"


@pytest.fixture
def sms_engine(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan, clock: FakeClock
) -> DialogEngine:
    return DialogEngine(
        sessions, plan, clock, default_timezone="UTC", default_language="en", sms_enabled=True
    )


@pytest.fixture
def chat(sms_engine: DialogEngine) -> Chat:
    return Chat(sms_engine, "tg-phone")


async def _numbers(sessions: async_sessionmaker[AsyncSession], patient_id: int) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(
            select(ChannelAddress.address).where(
                ChannelAddress.patient_id == patient_id, ChannelAddress.channel == Channel.SMS
            )
        )
        return list(rows)


async def _requests(sessions: async_sessionmaker[AsyncSession], patient_id: int) -> list[ScheduledMessage]:
    async with sessions() as session:
        rows = await session.scalars(
            select(ScheduledMessage)
            .where(ScheduledMessage.patient_id == patient_id, ScheduledMessage.kind == SMS_CONFIRM)
            .order_by(ScheduledMessage.id)
        )
        return list(rows)


async def _timeline(sessions: async_sessionmaker[AsyncSession], patient_id: int) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(
            select(AuditLog.action).where(AuditLog.patient_id == patient_id).order_by(AuditLog.id)
        )
        return [action for action in rows if action.startswith("sms_")]


async def _pending_reminders(sessions: async_sessionmaker[AsyncSession], patient_id: int) -> int:
    async with sessions() as session:
        rows = await session.scalars(
            select(ScheduledMessage.id).where(
                ScheduledMessage.patient_id == patient_id,
                ScheduledMessage.status == MessageStatus.PENDING,
                ScheduledMessage.touchpoint_id.is_not(None),
            )
        )
        return len(list(rows))


async def _say_yes(sessions: async_sessionmaker[AsyncSession], clock: FakeClock, number: str) -> None:
    async with sessions() as session, session.begin():
        assert await sms.confirm(session, number, clock.now()) is not None


async def test_a_patient_without_a_number_adds_one_and_it_waits_for_its_own_yes(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await sign_up(chat)
    patient = await patient_of(sessions, chat.address)
    await chat.send("/phone")
    assert "no number for text messages" in chat.text and chat.keys == ["change", "keep"]
    await chat.choose("change")
    assert "country code" in chat.text and chat.last[-1].ask_contact == "Share my number"
    for bad in ("call me maybe", "12", "3 June 2020"):
        await chat.send(bad)
        assert "doesn't look like a phone number" in chat.text and chat.keys == ["keep"], bad
    await chat.send(None)  # a sticker
    assert "I can only read text messages" in chat.text and "country code" in chat.text
    assert await _numbers(sessions, patient.id) == [] and await _requests(sessions, patient.id) == []

    await chat.send("+34 600 123 456")
    assert "I've sent a text to +34600123456" in chat.text and "Reply YES" in chat.text
    assert (await snapshot(sessions, chat.address)).flow is None
    assert await _numbers(sessions, patient.id) == [OLD]
    [request] = await _requests(sessions, patient.id)
    assert (request.status, request.channel) == (MessageStatus.PENDING, Channel.SMS)
    assert not (await patient_of(sessions, chat.address)).sms_consent
    assert await _timeline(sessions, patient.id) == ["sms_number_added"]
    assert await _pending_reminders(sessions, patient.id) > 0  # replanned, still there

    await chat.send("/phone")
    assert "+34600123456" in chat.text and "Waiting for your YES" in chat.text
    assert chat.keys == ["change", "remove", "keep"]
    await chat.choose("keep")
    assert "nothing has changed" in chat.text


async def test_a_shared_contact_is_the_new_number(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await sign_up(chat)
    await chat.send("/phone")
    await chat.choose("change")
    await chat.send(None, contact_phone="34600123456")  # Telegram sends its digits only
    assert "+34600123456" in chat.text
    assert await _numbers(sessions, (await patient_of(sessions, chat.address)).id) == [OLD]


async def test_changing_the_number_removes_the_old_and_asks_the_new_for_its_yes(
    chat: Chat, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await sign_up(chat, phone=OLD)
    await _say_yes(sessions, clock, OLD)
    patient = await patient_of(sessions, chat.address)
    await chat.send("/phone")
    assert "+34600123456" in chat.text and "Texts are on" in chat.text

    clock.advance(timedelta(minutes=5))
    await chat.send("/phone")
    await chat.choose("change")
    await chat.send("+34 600 654 321")
    assert "I've sent a text to +34600654321" in chat.text
    assert await _numbers(sessions, patient.id) == [NEW]
    assert not (await patient_of(sessions, chat.address)).sms_consent  # until the new phone says YES
    old_request, new_request = await _requests(sessions, patient.id)
    assert sms.confirm_address_id(old_request.dedupe_key) is None  # retired: names no address any more
    assert new_request.status is MessageStatus.PENDING
    async with sessions() as session:
        address = await sms.sms_address(session, NEW)
    assert address is not None and sms.confirm_address_id(new_request.dedupe_key) == address.id
    assert await _timeline(sessions, patient.id) == [
        "sms_confirmed",
        "sms_number_removed",
        "sms_number_added",
    ]
    assert await _pending_reminders(sessions, patient.id) > 0

    await _say_yes(sessions, clock, NEW)
    assert (await patient_of(sessions, chat.address)).sms_consent


async def test_changing_before_the_old_number_answered_cancels_its_request(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await sign_up(chat, phone=OLD)
    patient = await patient_of(sessions, chat.address)
    await chat.send("/phone")
    await chat.choose("change")
    await chat.send(NEW)
    old_request, new_request = await _requests(sessions, patient.id)
    assert old_request.status is MessageStatus.CANCELLED and new_request.status is MessageStatus.PENDING


async def test_removing_asks_first_then_the_number_gets_nothing_more(
    chat: Chat, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await sign_up(chat, phone=OLD)
    patient = await patient_of(sessions, chat.address)
    await chat.send("/phone")
    await chat.choose("remove")
    assert "Remove +34600123456?" in chat.text and chat.keys == ["yes", "no"]
    await chat.send("maybe")
    assert chat.keys == ["yes", "no"]
    await chat.choose("no")
    assert "nothing has changed" in chat.text and await _numbers(sessions, patient.id) == [OLD]

    await chat.send("/phone")
    await chat.choose("remove")
    await chat.choose("yes")
    assert "+34600123456 is removed" in chat.text and "Telegram" in chat.text
    assert await _numbers(sessions, patient.id) == []
    [request] = await _requests(sessions, patient.id)
    assert request.status is MessageStatus.CANCELLED
    assert not (await patient_of(sessions, chat.address)).sms_consent
    assert await _timeline(sessions, patient.id) == ["sms_number_removed"]
    async with sessions() as session:
        assert await sms.confirm(session, OLD, clock.now()) is None  # its YES turns nothing on now

    await chat.send("/phone")
    assert "no number for text messages" in chat.text


async def test_a_number_removed_and_given_again_gets_a_new_request(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await sign_up(chat, phone=OLD)
    patient = await patient_of(sessions, chat.address)
    await chat.send("/phone")
    await chat.choose("remove")
    await chat.choose("yes")
    await chat.send("/phone")
    await chat.choose("change")
    await chat.send(OLD)
    assert "I've sent a text to +34600123456" in chat.text
    cancelled, pending = await _requests(sessions, patient.id)  # the address id may be the old one's again
    assert (cancelled.status, pending.status) == (MessageStatus.CANCELLED, MessageStatus.PENDING)


async def test_another_patients_number_is_refused_without_saying_whose(
    chat: Chat, sms_engine: DialogEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await sign_up(Chat(sms_engine, "tg-other"), name="Eva", phone=OLD)
    await sign_up(chat)
    patient = await patient_of(sessions, chat.address)
    await chat.send("/phone")
    await chat.choose("change")
    await chat.send(OLD)
    assert "can't use that number" in chat.text and "registered" not in chat.text and "Eva" not in chat.text
    assert chat.keys == ["keep"]
    assert await _numbers(sessions, patient.id) == [] and await _requests(sessions, patient.id) == []
    await chat.send(OLD.replace("+34", "0034"))  # the same number written another way
    assert "can't use that number" in chat.text


async def test_the_same_number_again_changes_nothing(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await sign_up(chat, phone=OLD)
    patient = await patient_of(sessions, chat.address)
    await chat.send("/phone")
    await chat.choose("change")
    await chat.send("+34 600 12 34 56")
    assert "already your number" in chat.text
    assert await _numbers(sessions, patient.id) == [OLD] and len(await _requests(sessions, patient.id)) == 1
    assert await _timeline(sessions, patient.id) == []


@pytest.mark.parametrize("leave", ["/cancel", "/next", "cmd:keep"])
async def test_cancel_or_another_command_leaves_the_number_as_it_was(
    chat: Chat, sessions: async_sessionmaker[AsyncSession], leave: str
) -> None:
    await sign_up(chat, phone=OLD)
    patient = await patient_of(sessions, chat.address)
    await chat.send("/phone")
    await chat.choose("change")
    if leave.startswith("cmd:"):
        await chat.choose("keep")
        assert "nothing has changed" in chat.text
    else:
        await chat.send(leave)
    assert (await snapshot(sessions, chat.address)).flow is None
    await chat.send(NEW)  # no longer asked: not taken as a number
    assert await _numbers(sessions, patient.id) == [OLD] and len(await _requests(sessions, patient.id)) == 1


async def test_cancel_at_the_first_question_changes_nothing(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await sign_up(chat)
    await chat.send("/phone")
    await chat.send("/cancel")
    assert "nothing has changed" in chat.text and chat.keys == [
        "cmd:next",
        "cmd:done",
        "cmd:reschedule",
        "cmd:help",
    ]
    assert (await snapshot(sessions, chat.address)).flow is None


async def test_without_sms_configured_nothing_is_stored(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan, clock: FakeClock
) -> None:
    engine = DialogEngine(sessions, plan, clock, default_timezone="UTC", default_language="en")
    chat = Chat(engine, "tg-no-sms")
    await sign_up(chat)
    await chat.send("/phone")
    assert "aren't available at this clinic" in chat.text
    assert (await snapshot(sessions, chat.address)).flow is None

    with_number = Chat(engine, "tg-no-sms-2")
    await sign_up(with_number, phone=OLD)  # kept from sign-up, never texted
    await with_number.send("/phone")
    assert "+34600123456" in with_number.text and with_number.keys == ["remove", "keep"]
    assert "aren't available at this clinic" in with_number.text and "YES" not in with_number.text
    await with_number.choose("remove")
    await with_number.choose("yes")
    patient = await patient_of(sessions, with_number.address)
    assert await _numbers(sessions, patient.id) == []


async def test_a_paused_patient_resumes_before_adding_a_number(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await sign_up(chat)
    await chat.send("/pause")
    await chat.send("/phone")
    await chat.choose("change")
    assert "/resume" in chat.text
    assert await _numbers(sessions, (await patient_of(sessions, chat.address)).id) == []


async def test_phone_waits_for_a_finished_sign_up(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await chat.send("hello")
    await chat.send("/phone")
    assert (await snapshot(sessions, chat.address)).flow == "signup"


async def test_phone_speaks_spanish(chat: Chat) -> None:
    await sign_up(chat, phone=OLD)
    await chat.send("/language es")
    await chat.send("/phone")
    assert "Tu número para mensajes de texto (SMS): +34600123456" in chat.text
    assert "Esperando tu SÍ" in chat.text
    await chat.choose("change")
    await chat.send("hola")
    assert "no parece un número de teléfono" in chat.text
