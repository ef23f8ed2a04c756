"""Each command a signed-up patient can send, and what it stores and replans."""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from care.clock import FakeClock
from storage.models import Dose, DoseStatus, MessageStatus, PatientStatus, ScheduledMessage
from tests.bot.dialog.helpers import Chat, patient_of, sign_up, snapshot

APPOINTMENT = datetime(2027, 3, 12, 8, 30, tzinfo=UTC)  # 09:30 in Madrid


async def doses_of(sessions: async_sessionmaker[AsyncSession], patient_id: int) -> list[Dose]:
    async with sessions() as session:
        from storage.models import TreatmentCourse

        course_ids = select(TreatmentCourse.id).where(TreatmentCourse.patient_id == patient_id)
        return list(
            await session.scalars(select(Dose).where(Dose.course_id.in_(course_ids)).order_by(Dose.number))
        )


async def pending_of(sessions: async_sessionmaker[AsyncSession], patient_id: int) -> list[ScheduledMessage]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(ScheduledMessage)
                .where(
                    ScheduledMessage.patient_id == patient_id,
                    ScheduledMessage.status == MessageStatus.PENDING,
                )
                .order_by(ScheduledMessage.due_at)
            )
        )


async def test_next_tells_the_appointment_and_the_reminders_ahead(chat: Chat) -> None:
    await sign_up(chat)
    await chat.send("/next")
    assert "Your next appointment: Fri, 12 Mar 2027, 09:30, at Hospital La Paz." in chat.text
    assert "Thu, 11 Mar 2027, 18:00: reminder: your appointment is tomorrow" in chat.text


async def test_done_records_the_dose_and_counts_the_next_from_its_real_date(
    chat: Chat, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await sign_up(chat)
    clock.set(datetime(2027, 3, 15, 12, 0, tzinfo=UTC))  # the infusion was three days late
    await chat.send("/done")
    assert chat.keys == ["today", "yesterday"]
    await chat.send("tomorrow")
    assert "hasn't come yet" in chat.text
    await chat.send("14 March")
    assert "Noted: you had your dose on Sun, 14 Mar 2027." in chat.text
    assert "usually due around Tue, 14 Sept 2027" in chat.text  # fact 24: 6 months after the dose given
    assert chat.keys == ["cmd:reschedule"]
    patient = await patient_of(sessions, chat.address)
    doses = await doses_of(sessions, patient.id)
    assert [(dose.number, dose.status) for dose in doses] == [(3, DoseStatus.GIVEN), (4, DoseStatus.GIVEN)]
    assert doses[1].given_at == datetime(2027, 3, 14, 8, 30, tzinfo=UTC)  # the appointment's time of day
    await chat.choose("cmd:reschedule")
    await chat.send("15 September 9:00")
    assert "Saved: your next appointment is Wed, 15 Sept 2027, 09:00." in chat.text
    doses = await doses_of(sessions, patient.id)
    assert (doses[-1].number, doses[-1].status) == (5, DoseStatus.PLANNED)
    due = [row.due_at for row in await pending_of(sessions, patient.id)]
    assert datetime(2027, 9, 14, 16, 0, tzinfo=UTC) in due  # 18:00 Madrid summer time, the day before
    await chat.send("/done")
    await chat.send("12 March")
    assert "last dose on record was on Sun, 14 Mar 2027" in chat.text


async def test_reschedule_checks_the_new_date_like_sign_up(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await sign_up(chat)
    await chat.send("/reschedule")
    await chat.send("2026-01-01 10:00")
    assert "has already passed" in chat.text
    await chat.send("15 January 10:00")  # 7 months after 3 June: fine
    assert "Saved: your next appointment is Fri, 15 Jan 2027, 10:00." in chat.text
    patient = await patient_of(sessions, chat.address)
    doses = await doses_of(sessions, patient.id)
    assert doses[-1].planned_at == datetime(2027, 1, 15, 9, 0, tzinfo=UTC) and doses[-1].number == 4
    reminders = await pending_of(sessions, patient.id)
    assert reminders[0].due_at == datetime(2027, 1, 8, 9, 0, tzinfo=UTC)  # a week before, 10:00 Madrid
    assert all(row.due_at < datetime(2027, 3, 1, tzinfo=UTC) for row in reminders)  # March ones cancelled
    await chat.send("/reschedule")
    await chat.send("1 October 10:00")
    assert "more than a year" not in chat.text and "Saved" in chat.text


async def test_learn_lists_the_library_topics_and_points_to_the_care_team(chat: Chat) -> None:
    await sign_up(chat)
    await chat.send("/learn")
    assert "care team" in chat.text and "page 1 of 4" in chat.text
    assert (
        len(chat.keys) == 9
        and chat.keys[0] == "cmd:learn:what_is_ocrevus"
        and chat.keys[-1] == "cmd:learn:page:2"
    )


async def test_pause_and_resume_cancel_and_restore_the_reminders(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await sign_up(chat)
    patient = await patient_of(sessions, chat.address)
    planned = len(await pending_of(sessions, patient.id))
    await chat.send("/pause")
    assert "paused" in chat.text
    assert (await patient_of(sessions, chat.address)).status is PatientStatus.PAUSED
    assert await pending_of(sessions, patient.id) == []
    await chat.send("/next")
    assert "paused" in chat.text
    await chat.send("hello?")
    assert chat.keys == ["cmd:resume"]
    await chat.choose("cmd:resume")
    assert "back on" in chat.text
    assert len(await pending_of(sessions, patient.id)) == planned


async def test_stop_asks_first_then_unsubscribes(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await sign_up(chat)
    patient = await patient_of(sessions, chat.address)
    await chat.send("/stop")
    assert chat.keys == ["yes", "no"]
    await chat.choose("no")
    assert "nothing has changed" in chat.text
    assert (await patient_of(sessions, chat.address)).status is PatientStatus.ACTIVE
    await chat.send("/stop")
    await chat.send("yes")
    assert "won't get any more reminders" in chat.text
    assert (await patient_of(sessions, chat.address)).status is PatientStatus.STOPPED
    assert await pending_of(sessions, patient.id) == []
    await chat.send("/resume")
    assert (await patient_of(sessions, chat.address)).status is PatientStatus.ACTIVE


async def test_language_switches_every_reply_and_the_help(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await sign_up(chat)
    await chat.send("/language")
    assert chat.keys == ["cmd:language:en", "cmd:language:es"]
    await chat.choose("cmd:language:es")
    assert "A partir de ahora te escribiré en español." in chat.text
    await chat.send("/help")
    assert "/reschedule - Cambiar la fecha de tu próxima cita" in chat.text and "emergencias" in chat.text
    await chat.send("/next")
    assert "Tu próxima cita: vie, 12 mar 2027, 9:30, en Hospital La Paz." in chat.text


async def test_help_lists_every_command_and_the_emergency_line(chat: Chat) -> None:
    await sign_up(chat)
    await chat.send("/help")
    names = (
        "next",
        "done",
        "reschedule",
        "calendar",
        "learn",
        "pause",
        "resume",
        "stop",
        "delete",
        "language",
    )
    for name in names:
        assert f"/{name} - " in chat.text
    assert "call emergency services right away" in chat.text


async def test_calendar_is_an_ics_file_with_alarms(chat: Chat) -> None:
    await sign_up(chat)
    await chat.send("/calendar")
    attachment = chat.last[-1].attachment
    assert attachment is not None
    filename, mime, content = attachment
    assert (filename, mime) == ("ocrevus-appointments.ics", "text/calendar")
    calendar = Calendar.from_ical(content)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    event = events[0]
    assert event.decoded("dtstart") == APPOINTMENT
    assert event.decoded("dtend") == datetime(2027, 3, 12, 14, 0, tzinfo=UTC)  # 600 mg: 1 h + 3.5 h + 1 h
    assert str(event["location"]) == "Hospital La Paz" and str(event["summary"]) == "Ocrevus infusion"
    assert len(event.walk("VALARM")) == 2


async def test_time_zone_change_moves_the_reminders_to_the_new_wall_clock(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await sign_up(chat)
    await chat.send("/timezone")
    await chat.send("Las Palmas")
    await chat.choose("yes")
    assert "Time zone updated: Canaries" in chat.text
    patient = await patient_of(sessions, chat.address)
    assert patient.timezone == "Atlantic/Canary"
    due = [row.due_at for row in await pending_of(sessions, patient.id)]
    assert datetime(2027, 3, 11, 18, 0, tzinfo=UTC) in due  # 18:00 in Las Palmas (UTC+0 in winter)
    assert (await snapshot(sessions, chat.address)).flow is None


async def test_commands_that_need_a_finished_sign_up_wait_for_it(chat: Chat) -> None:
    await chat.send("hi")
    await chat.choose("yes")
    await chat.send("/next")
    assert "finish signing up first" in chat.text and "What name" in chat.text
    await chat.send("/help")
    assert "/next - " in chat.text and "What name" in chat.text


async def test_an_unknown_command_shows_the_help(chat: Chat) -> None:
    await sign_up(chat)
    await chat.send("/dance")
    assert "didn't understand" in chat.text and "/help - " in chat.text
