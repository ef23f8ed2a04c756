"""Answers to "did you have your dose?": yes re-anchors the plan on its day; not yet or moved asks a date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from care.clock import FakeClock
from storage.models import Dose, DoseStatus, MessageStatus, ScheduledMessage, TreatmentCourse
from tests.bot.dialog.checkin_helpers import DOSE_AT, check_ins, mark_sent, message, signed_up
from tests.bot.dialog.helpers import Chat, snapshot

CONFIRM_SENT = datetime(2027, 3, 14, 9, 0, tzinfo=UTC)  # 10:00 in Madrid, two days after the dose


async def _doses(sessions: async_sessionmaker[AsyncSession], patient_id: int) -> list[Dose]:
    async with sessions() as session:
        courses = select(TreatmentCourse.id).where(TreatmentCourse.patient_id == patient_id)
        return list(
            await session.scalars(select(Dose).where(Dose.course_id.in_(courses)).order_by(Dose.number))
        )


async def _pending(sessions: async_sessionmaker[AsyncSession], patient_id: int) -> list[ScheduledMessage]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(ScheduledMessage).where(
                    ScheduledMessage.patient_id == patient_id,
                    ScheduledMessage.status == MessageStatus.PENDING,
                )
            )
        )


async def _confirm_sent(
    chat: Chat, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> tuple[int, int]:
    patient = await signed_up(chat, sessions)
    message_id = await mark_sent(sessions, patient.id, "dose_confirm", CONFIRM_SENT)
    clock.set(CONFIRM_SENT + timedelta(hours=1))
    return patient.id, message_id


@pytest.mark.parametrize("how", ["button", "typed_yes", "sms_number"])
async def test_yes_records_the_dose_on_its_day_and_plans_the_next_six_months_later(
    chat: Chat, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, how: str
) -> None:
    patient_id, message_id = await _confirm_sent(chat, sessions, clock)

    if how == "button":
        await chat.choose(f"{message_id}:yes")
    else:
        await chat.send("yes" if how == "typed_yes" else "1")

    assert "Noted: you had your dose on Fri, 12 Mar 2027." in chat.text
    assert "usually due around Sun, 12 Sept 2027" in chat.text  # fact 24: 6 months after the dose
    assert chat.keys == ["cmd:reschedule"]
    dose = (await _doses(sessions, patient_id))[-1]
    assert (dose.status, dose.given_at) == (DoseStatus.GIVEN, DOSE_AT)
    pending = await _pending(sessions, patient_id)
    [nudge] = [row for row in pending if row.touchpoint_id == "booking_nudge"]
    assert nudge.due_at.date().isoformat() == "2027-08-12"  # five months after: "book the next one"
    assert (await message(sessions, message_id)).answered_at == clock.now()
    assert await check_ins(sessions) == []  # not a check-in: nothing for operators


async def test_yes_twice_says_it_is_already_on_record(
    chat: Chat, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    _, message_id = await _confirm_sent(chat, sessions, clock)
    await chat.choose(f"{message_id}:yes")
    await chat.choose(f"{message_id}:yes")
    assert "already have that dose on record" in chat.text


@pytest.mark.parametrize(("option", "language", "words"), [
    ("not_yet", "en", "What's the new date and time of your appointment?"),
    ("moved", "es", "¿Cuál es la nueva fecha y hora de tu cita?"),
])  # fmt: skip
async def test_not_yet_or_moved_asks_the_new_date_and_moves_the_appointment(
    chat: Chat,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    option: str,
    language: str,
    words: str,
) -> None:
    patient_id, message_id = await _confirm_sent(chat, sessions, clock)
    if language == "es":
        await chat.send("/language es")

    await chat.choose(f"{message_id}:{option}")

    assert words in chat.text
    assert (await snapshot(sessions, chat.address)).flow == "reschedule"
    await chat.send("19/3 10:00" if language == "es" else "19 March 10:00")
    dose = (await _doses(sessions, patient_id))[-1]
    assert dose.status is DoseStatus.PLANNED
    assert dose.planned_at == datetime(2027, 3, 19, 9, 0, tzinfo=UTC)  # 10:00 in Madrid
    assert (await message(sessions, message_id)).answered_at is not None


async def test_words_that_pick_no_option_are_left_to_the_flows(
    chat: Chat, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    patient_id, _ = await _confirm_sent(chat, sessions, clock)
    await chat.send("banana")
    assert (await _doses(sessions, patient_id))[-1].status is DoseStatus.PLANNED
    assert await check_ins(sessions) == []
