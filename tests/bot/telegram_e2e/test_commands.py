"""Every command over Telegram, after a real sign-up: what the patient sees, and what the database keeps."""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dialog import COMMANDS
from storage.models import (
    AddressState,
    ChannelAddress,
    Dose,
    DoseStatus,
    Language,
    MessageStatus,
    Patient,
    PatientStatus,
    ScheduledMessage,
)
from tests.bot.dialog.helpers import patient_of, snapshot
from tests.bot.telegram_e2e.harness import Bot, User, english_sign_up

CHAT = 7101


async def _signed_up(bot: Bot) -> User:
    user = bot.user(CHAT, "en")
    await english_sign_up(user)
    return user


async def _pending(sessions: async_sessionmaker[AsyncSession], patient_id: int) -> int:
    async with sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(ScheduledMessage)
            .where(
                ScheduledMessage.patient_id == patient_id, ScheduledMessage.status == MessageStatus.PENDING
            )
        )
    return int(count or 0)


async def test_the_command_menu_is_registered_in_english_and_spanish(bot: Bot) -> None:
    registered = {
        call.params.get("language_code"): call.params["commands"]
        for call in bot.fake.calls
        if call.method == "setMyCommands" and call.status == 200
    }
    assert set(registered) == {None, "es"}  # English is the default for every other language
    for code, language in ((None, "en"), ("es", "es")):
        assert registered[code] == [
            {"command": name, "description": description} for name, description in COMMANDS[language]
        ]
    names = [command["command"] for command in registered[None]]
    for name in ("next", "done", "reschedule", "calendar", "learn", "pause", "resume", "language", "stop",
                 "delete", "help"):  # fmt: skip
        assert name in names


async def test_next_calendar_reschedule_learn_and_help(
    bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = await _signed_up(bot)
    await user.send("/next")
    assert "Your next appointment: Fri, 12 Mar 2027, 09:30, at Hospital La Paz." in user.text
    assert "Coming up:" in user.text

    await user.send("/calendar")
    assert [reply["method"] for reply in user.last] == ["sendDocument"]
    document = user.last[0]["document"]
    assert document["filename"] == "ocrevus-appointments.ics"
    assert "add to your calendar" in user.last[0]["caption"]
    calendar = Calendar.from_ical(document["content"])
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    assert events[0].decoded("dtstart") == datetime(2027, 3, 12, 8, 30, tzinfo=UTC)
    assert str(events[0].get("location")) == "Hospital La Paz"
    assert len(list(events[0].walk("VALARM"))) == 2

    await user.send("/reschedule")
    assert "new date and time" in user.text
    await user.send("19 March 10:00")
    assert "Saved: your next appointment is Fri, 19 Mar 2027, 10:00." in user.text
    patient = await patient_of(sessions, str(CHAT))
    async with sessions() as session:
        planned = await session.scalar(
            select(Dose.planned_at).where(Dose.status == DoseStatus.PLANNED).order_by(Dose.planned_at)
        )
    assert planned == datetime(2027, 3, 19, 9, tzinfo=UTC)

    before = await snapshot(sessions, str(CHAT))
    await user.send("/learn")
    assert user.last and all(reply["method"] == "sendMessage" for reply in user.last)
    await user.send("/help")
    for name, description in COMMANDS["en"]:
        assert f"/{name} - {description}" in user.text
    assert "emergency services" in user.text
    assert await snapshot(sessions, str(CHAT)) == before  # answering questions moves nothing
    assert (await patient_of(sessions, str(CHAT))).status is PatientStatus.ACTIVE
    assert await _pending(sessions, patient.id) > 0


async def test_done_records_the_dose_and_offers_the_next_booking(
    bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = await _signed_up(bot)
    await user.send("/done")
    assert "When did you have it?" in user.text and user.keys == ["today", "yesterday"]
    await user.tap("yesterday")
    assert "Noted: you had your dose on Wed, 25 Nov 2026." in user.text
    assert user.keys == ["cmd:reschedule"]
    async with sessions() as session:
        given = list(await session.scalars(select(Dose.given_at).where(Dose.status == DoseStatus.GIVEN)))
    assert len(given) == 2 and max(given).date() == datetime(2026, 11, 25, tzinfo=UTC).date()
    await user.tap("cmd:reschedule")
    assert "new date and time" in user.text


async def test_pause_resume_and_language(bot: Bot, sessions: async_sessionmaker[AsyncSession]) -> None:
    user = await _signed_up(bot)
    patient = await patient_of(sessions, str(CHAT))
    assert await _pending(sessions, patient.id) > 0
    await user.send("/pause")
    assert "Reminders paused" in user.text
    assert (await patient_of(sessions, str(CHAT))).status is PatientStatus.PAUSED
    assert await _pending(sessions, patient.id) == 0
    await user.send("/pause")
    assert "already paused" in user.text
    await user.send("/resume")
    assert "back on" in user.text
    assert (await patient_of(sessions, str(CHAT))).status is PatientStatus.ACTIVE
    assert await _pending(sessions, patient.id) > 0

    await user.send("/language")
    assert user.keys == ["cmd:language:en", "cmd:language:es"]
    await user.tap("cmd:language:es")
    assert "A partir de ahora te escribiré en español." in user.text
    assert (await patient_of(sessions, str(CHAT))).language is Language.ES
    await user.send("/next")
    assert "Tu próxima cita" in user.text
    await user.send("/language en")
    assert "From now on I'll write in English." in user.text


async def test_stop_and_delete_ask_first_and_no_keeps_everything(
    bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = await _signed_up(bot)
    patient = await patient_of(sessions, str(CHAT))
    await user.send("/stop")
    assert "Stop all reminders" in user.text and user.keys == ["yes", "no"]
    await user.tap("no")
    assert "nothing has changed" in user.text
    assert (await patient_of(sessions, str(CHAT))).status is PatientStatus.ACTIVE
    await user.send("/stop")
    await user.tap("yes")
    assert "you won't get any more reminders" in user.text
    assert (await patient_of(sessions, str(CHAT))).status is PatientStatus.STOPPED
    assert await _pending(sessions, patient.id) == 0
    await user.send("/resume")
    assert (await patient_of(sessions, str(CHAT))).status is PatientStatus.ACTIVE

    await user.send("/delete")
    assert "Erase everything" in user.text and user.keys == ["yes", "no"]
    await user.send("no")
    assert "nothing has changed" in user.text
    await user.send("/delete")
    await user.tap("yes")
    assert "Everything has been erased" in user.text
    async with sessions() as session:
        assert await session.get(Patient, patient.id) is None
        assert await session.scalar(select(func.count()).select_from(ChannelAddress)) == 0
    await user.send("hello again")
    assert "Do you agree?" in user.text  # a new start, from nothing


async def test_commands_that_need_a_finished_sign_up_say_so(
    bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = bot.user(7102)
    await user.send("hi")
    await user.tap("yes")
    before = await snapshot(sessions, "7102")
    for command in ("/next", "/done", "/reschedule", "/calendar", "/pause"):
        await user.send(command)
        assert "Let's finish signing up first." in user.text and "What name" in user.text, command
        assert await snapshot(sessions, "7102") == before, command


async def test_a_reply_to_a_chat_that_blocked_the_bot_marks_its_address_blocked(
    bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = await _signed_up(bot)
    bot.fake.blocked_chats.add(CHAT)
    assert await user.send("/next") == []  # Telegram refused it: 403 "bot was blocked by the user"
    refused = [call for call in bot.fake.calls if call.status == 403]
    assert refused and refused[-1].method == "sendMessage"
    async with sessions() as session:
        state = await session.scalar(select(ChannelAddress.state).where(ChannelAddress.address == str(CHAT)))
    assert state is AddressState.BLOCKED
    assert (await patient_of(sessions, str(CHAT))).status is PatientStatus.ACTIVE  # only the address is


async def test_blocking_and_unblocking_in_the_chat_moves_the_address_state(
    bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = await _signed_up(bot)
    member = {"id": 7_000_001, "is_bot": True, "first_name": "Ocrebot"}
    change = {
        "chat": {"id": CHAT, "type": "private"},
        "from": {"id": CHAT, "is_bot": False, "first_name": "Ana"},
        "date": 1,
        "old_chat_member": {"status": "member", "user": member},
        "new_chat_member": {"status": "kicked", "user": member, "until_date": 0},
    }

    async def state() -> AddressState:
        async with sessions() as session:
            found = await session.scalar(
                select(ChannelAddress.state).where(ChannelAddress.address == str(CHAT))
            )
        assert found is not None
        return found

    assert await user.push({"my_chat_member": change}) == []
    assert await state() is AddressState.BLOCKED
    unblocked = {
        **change,
        "old_chat_member": change["new_chat_member"],
        "new_chat_member": change["old_chat_member"],
    }
    await user.push({"my_chat_member": unblocked})
    assert await state() is AddressState.ACTIVE
