"""/quiet (QUIET by SMS): a patient's own quiet hours, kept in local time, moving only scheduled messages."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels import sms_in
from bot.dialog.events import Reply
from care.clock import FakeClock
from care.quiet_hours import QuietHours
from storage.models import MessageStatus, ScheduledMessage
from tests.bot.dialog.helpers import Chat, patient_of, sign_up

MADRID, CANARY = ZoneInfo("Europe/Madrid"), ZoneInfo("Atlantic/Canary")


async def _pending(sessions: async_sessionmaker[AsyncSession], patient_id: int) -> dict[str, datetime]:
    async with sessions() as session:
        rows = await session.scalars(
            select(ScheduledMessage).where(
                ScheduledMessage.patient_id == patient_id, ScheduledMessage.status == MessageStatus.PENDING
            )
        )
        return {row.touchpoint_id or row.kind: row.due_at for row in rows}


async def test_quiet_shows_the_usual_hours_in_the_patients_local_time(chat: Chat) -> None:
    await sign_up(chat)
    await chat.send("/quiet")
    assert "Quiet hours: 21:00-08:00 (Madrid time), the usual ones" in chat.text
    assert "/quiet 22:00-07:00" in chat.text


async def test_a_patient_sets_their_own_hours_and_pending_reminders_move_out_of_them(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await sign_up(chat)
    patient = await patient_of(sessions, chat.address)
    before = await _pending(sessions, patient.id)
    assert before["reminder_day_before"].astimezone(MADRID).time() == time(18, 0)

    await chat.send("/quiet 17:00-09:00")

    assert "quiet hours are now 17:00-09:00 (Madrid time)" in chat.text
    patient = await patient_of(sessions, chat.address)
    assert (patient.quiet_hours_start, patient.quiet_hours_end) == (time(17, 0), time(9, 0))
    after = await _pending(sessions, patient.id)
    assert after.keys() == before.keys()
    assert after["reminder_day_before"].astimezone(MADRID).time() == time(16, 45)  # moved earlier
    quiet = QuietHours(time(17, 0), time(9, 0))
    assert not any(quiet.is_quiet(due, MADRID) for due in after.values())
    await chat.send("/quiet")
    assert "17:00-09:00 (Madrid time), as you chose" in chat.text


@pytest.mark.parametrize(
    "text", ["/quiet 25:00-07:00", "/quiet 22:00", "/quiet tonight", "/quiet 06:00-01:00"], ids=str
)
async def test_bad_hours_get_a_short_answer_and_change_nothing(
    chat: Chat, sessions: async_sessionmaker[AsyncSession], text: str
) -> None:
    await sign_up(chat)
    patient = await patient_of(sessions, chat.address)
    before = await _pending(sessions, patient.id)

    await chat.send(text)

    assert chat.text.startswith("Please send the hours like this: /quiet 22:00-07:00")
    after_patient = await patient_of(sessions, chat.address)
    assert (after_patient.quiet_hours_start, after_patient.quiet_hours_end) == (None, None)
    assert await _pending(sessions, patient.id) == before


async def test_off_means_none_and_default_goes_back_to_the_usual(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await sign_up(chat)
    await chat.send("/quiet off")
    assert "no quiet hours" in chat.text
    patient = await patient_of(sessions, chat.address)
    assert (patient.quiet_hours_start, patient.quiet_hours_end) == (time(0), time(0))
    await chat.send("/quiet")
    assert chat.text.startswith("No quiet hours")

    await chat.send("/quiet default")

    assert "back to the usual 21:00-08:00 (Madrid time)" in chat.text
    patient = await patient_of(sessions, chat.address)
    assert (patient.quiet_hours_start, patient.quiet_hours_end) == (None, None)


async def test_moving_time_zone_keeps_quiet_hours_in_local_time(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await sign_up(chat)
    await chat.send("/quiet 17:00-09:00")
    await chat.send("/timezone")
    await chat.send("Las Palmas")
    await chat.choose("yes")

    patient = await patient_of(sessions, chat.address)
    assert patient.timezone == "Atlantic/Canary"
    assert (patient.quiet_hours_start, patient.quiet_hours_end) == (time(17, 0), time(9, 0))
    pending = await _pending(sessions, patient.id)
    assert pending["reminder_day_before"].astimezone(CANARY).time() == time(16, 45)  # local, not Madrid's
    quiet = QuietHours(time(17, 0), time(9, 0))
    assert not any(quiet.is_quiet(due, CANARY) for due in pending.values())
    await chat.send("/quiet")
    assert "17:00-09:00 (Canaries time)" in chat.text


async def test_in_spanish(chat: Chat) -> None:
    await sign_up(chat)
    await chat.send("/language es")
    await chat.send("/quiet")
    assert "Horas de silencio: 21:00-08:00 (hora de Madrid), las habituales" in chat.text
    await chat.send("/quiet 22:30-07:30")
    assert "tus horas de silencio son ahora 22:30-07:30 (hora de Madrid)" in chat.text
    await chat.send("/quiet 99")
    assert chat.text.startswith("Envía las horas así: /quiet 22:00-07:00")


async def test_replies_and_emergency_guidance_never_wait_for_quiet_hours(
    chat: Chat, clock: FakeClock
) -> None:
    await sign_up(chat)
    await chat.send("/quiet 20:00-10:00")
    night = datetime(2026, 11, 26, 23, 30, tzinfo=MADRID)
    clock.set(night)

    replies: list[Reply] = await chat.send("/help")

    assert replies and "call emergency services right away" in chat.text  # answered at once, at 23:30


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ("QUIET 22:00-07:00", "/quiet 22:00-07:00"),
        ("quiet off", "/quiet off"),
        ("Quiet", "/quiet"),
        ("SILENCIO 23:00-08:00", "/quiet 23:00-08:00"),
    ],
    ids=["range", "off", "show", "spanish"],
)
def test_quiet_by_sms_is_the_quiet_command(body: str, text: str) -> None:
    assert sms_in.read(body) == sms_in.Inbound(sms_in.Kind.DIALOG, text)


def test_by_sms_the_command_in_a_reply_is_written_as_the_word_to_text() -> None:
    body = sms_in.render(Reply("To change: /quiet 22:00-07:00, or /quiet off."), "en")
    assert body == "To change: QUIET 22:00-07:00, or QUIET off."
