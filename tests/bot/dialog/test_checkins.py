"""Check-in answers: a button or own words, triaged, stored, answered (emergency first) and alerted once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dialog import DialogEngine
from care.clock import FakeClock
from care.plan import ReminderPlan
from storage import alerts
from storage.models import CheckInLevel, CheckInReason, MessageStatus, Patient, ScheduledMessage
from tests.bot.dialog.checkin_helpers import (
    EVENING,
    FailingAlerter,
    RecordingAlerter,
    check_ins,
    mark_sent,
    message,
    signed_up,
)
from tests.bot.dialog.helpers import Chat, snapshot

TAP_REPLIES = {
    ("en", "fine"): "Thank you, good to hear.",
    ("en", "mild"): "Please call your clinic right away",
    ("en", "help_now"): "Please call emergency services now: 112.",
    ("es", "fine"): "Gracias, me alegra saberlo.",
    ("es", "mild"): "Llame a su clínica ahora mismo",
    ("es", "help_now"): "Llame ahora a emergencias: 112.",
}
LEVELS = {"fine": CheckInLevel.FINE, "mild": CheckInLevel.CLINIC_NOW, "help_now": CheckInLevel.EMERGENCY}


@pytest.fixture
def alerter(sessions: async_sessionmaker[AsyncSession]) -> RecordingAlerter:
    return RecordingAlerter(sessions)


@pytest.fixture
def make_engine(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan, clock: FakeClock
) -> Callable[..., DialogEngine]:
    def make(**options: object) -> DialogEngine:
        return DialogEngine(
            sessions,
            plan,
            clock,
            default_timezone="UTC",
            default_language="en",
            **options,  # type: ignore[arg-type]
        )

    return make


@pytest.fixture
def alerted_chat(make_engine: Callable[..., DialogEngine], alerter: RecordingAlerter) -> Chat:
    return Chat(make_engine(alerter=alerter))


async def _sent_check_in(
    chat: Chat, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, **patient: object
) -> tuple[Patient, int]:
    found = await signed_up(chat, sessions, **patient)
    message_id = await mark_sent(sessions, found.id, "check_in_evening", EVENING)
    clock.set(EVENING + timedelta(minutes=20))
    return found, message_id


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("option", ["fine", "mild", "help_now"])
async def test_each_button_is_triaged_stored_and_answered_in_the_patients_language(
    alerted_chat: Chat,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    alerter: RecordingAlerter,
    language: str,
    option: str,
) -> None:
    patient, message_id = await _sent_check_in(alerted_chat, sessions, clock)
    if language == "es":
        await alerted_chat.send("/language es")

    await alerted_chat.choose(f"{message_id}:{option}")

    assert TAP_REPLIES[(language, option)] in alerted_chat.text
    [row] = await check_ins(sessions)
    assert (row.patient_id, row.scheduled_message_id, row.level) == (patient.id, message_id, LEVELS[option])
    assert row.dose_id is not None and row.reason is CheckInReason.ANSWER
    assert row.flagged is (option != "fine")
    assert row.created_at == clock.now()
    assert (await message(sessions, message_id)).answered_at == clock.now()
    assert len(alerter.alerts) == (0 if option == "fine" else 1)
    if option == "mild":  # vague: within a day of the dose it is "call your clinic right away", then details
        assert (
            "tell me in your own words" in alerted_chat.text
            or "cuénteme con sus palabras" in alerted_chat.text
        )
        assert (await snapshot(sessions, alerted_chat.address)).flow == "check_in"


async def test_an_emergency_answer_gets_the_call_first_and_one_alert_after_the_commit(
    alerted_chat: Chat,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    alerter: RecordingAlerter,
) -> None:
    patient, message_id = await _sent_check_in(alerted_chat, sessions, clock)

    replies = await alerted_chat.choose(f"{message_id}:help_now")

    assert replies[0].text == (
        "Please call emergency services now: 112. Don't wait to see if it gets better."
    )
    assert "told your clinic team" in replies[-1].text
    [alert] = alerter.alerts
    assert alerter.stored_when_alerted == [True]  # the row was committed before the alerter heard of it
    assert (alert.patient_id, alert.display_name, alert.level) == (patient.id, "Ana", "emergency")
    assert alert.answer == "I need help now" and alert.at == clock.now()
    [row] = await check_ins(sessions)
    assert row.alerted_at == clock.now()


@pytest.mark.parametrize(
    ("changes", "number"),
    [
        ({"timezone": "America/New_York", "country": None}, "911"),  # no country: the zone's
        ({"country": "GB", "timezone": "Europe/London"}, "999"),
        ({"country": "MX", "timezone": "America/Mexico_City"}, "911"),
        ({"country": None, "timezone": "UTC"}, "112"),  # unknown: the default
    ],
    ids=["zone_new_york", "country_gb", "country_mx", "unknown_default"],
)
async def test_the_emergency_number_is_the_patients_countrys(
    chat: Chat,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    changes: dict[str, object],
    number: str,
) -> None:
    _, message_id = await _sent_check_in(chat, sessions, clock, **changes)
    replies = await chat.choose(f"{message_id}:help_now")
    assert replies[0].text.startswith(f"Please call emergency services now: {number}.")


async def test_the_settings_default_number_is_used_when_the_country_is_unknown(
    make_engine: Callable[..., DialogEngine], sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    chat = Chat(make_engine(default_emergency_number="999"))
    _, message_id = await _sent_check_in(chat, sessions, clock, country=None, timezone="UTC")
    replies = await chat.choose(f"{message_id}:help_now")
    assert replies[0].text.startswith("Please call emergency services now: 999.")


@pytest.mark.parametrize(
    ("text", "level", "reply"),
    [
        ("my tongue is swolen", CheckInLevel.EMERGENCY, "Please call emergency services now: 112."),
        ("cant breath!!", CheckInLevel.EMERGENCY, "Please call emergency services now: 112."),
        ("🤢🤢", CheckInLevel.CLINIC_NOW, "Please call your clinic right away"),
        ("dizzzy 😵", CheckInLevel.CLINIC_NOW, "Please call your clinic right away"),
        ("im fine thx 👍", CheckInLevel.FINE, "Thank you, good to hear."),
        ("me cuesta respirar", CheckInLevel.EMERGENCY, "Please call emergency services now: 112."),
        ("estoy bien gracias", CheckInLevel.FINE, "Thank you, good to hear."),
    ],
    ids=["typo_swollen_tongue", "typo_breath", "emoji_nausea", "typo_emoji_dizzy", "fine_emoji",
         "es_breathing", "es_fine"],
)  # fmt: skip
async def test_own_words_answer_the_open_check_in_typos_and_emoji_included(
    alerted_chat: Chat,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    alerter: RecordingAlerter,
    text: str,
    level: CheckInLevel,
    reply: str,
) -> None:
    _, message_id = await _sent_check_in(alerted_chat, sessions, clock)

    replies = await alerted_chat.send(text)

    assert reply in replies[0].text
    [row] = await check_ins(sessions)
    assert (row.answer, row.level, row.scheduled_message_id) == (text, level, message_id)
    assert len(alerter.alerts) == (level is not CheckInLevel.FINE)


async def test_words_that_say_nothing_clear_ask_again_with_the_buttons_and_store_nothing(
    chat: Chat, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    _, message_id = await _sent_check_in(chat, sessions, clock)
    await chat.send("what time is it")
    assert "not sure I understood" in chat.text
    assert chat.keys == [f"{message_id}:fine", f"{message_id}:mild", f"{message_id}:help_now"]
    assert await check_ins(sessions) == []
    await chat.send("I have a rash")  # still open: the next words answer it
    [row] = await check_ins(sessions)
    assert row.level is CheckInLevel.CLINIC_NOW


async def test_a_typed_option_number_answers_the_check_in_as_by_sms(
    chat: Chat, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    _, message_id = await _sent_check_in(chat, sessions, clock)
    await chat.send("1")
    [row] = await check_ins(sessions)
    assert (row.level, row.answer) == (CheckInLevel.FINE, "I feel fine")


async def test_after_a_vague_answer_the_details_are_stored_and_a_worse_one_gets_the_emergency_first(
    alerted_chat: Chat,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    alerter: RecordingAlerter,
) -> None:
    _, message_id = await _sent_check_in(alerted_chat, sessions, clock)
    await alerted_chat.choose(f"{message_id}:mild")
    await alerted_chat.send("itchy rash on my arms")
    assert "passed it on to your clinic team" in alerted_chat.text
    await alerted_chat.choose(f"{message_id}:mild")
    replies = await alerted_chat.send("now my lips are swollen")
    assert replies[0].text.startswith("Please call emergency services now: 112.")

    rows = await check_ins(sessions)
    assert [(row.answer, row.level) for row in rows] == [
        ("Mild symptoms", CheckInLevel.CLINIC_NOW),
        ("itchy rash on my arms", CheckInLevel.CLINIC_NOW),
        ("Mild symptoms", CheckInLevel.CLINIC_NOW),
        ("now my lips are swollen", CheckInLevel.EMERGENCY),
    ]
    assert len(alerter.alerts) == 4 and (await snapshot(sessions, alerted_chat.address)).flow is None


async def test_a_command_still_wins_while_a_check_in_is_open(
    chat: Chat, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await _sent_check_in(chat, sessions, clock)
    await chat.send("/help")
    assert "/next" in chat.text
    assert await check_ins(sessions) == []


async def test_own_words_answer_a_flows_question_asked_after_the_check_in(
    chat: Chat, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await _sent_check_in(chat, sessions, clock)
    await chat.send("/reschedule")
    await chat.send("dizzy")  # the reschedule question is newer: this is a (bad) date, not a check-in
    assert await check_ins(sessions) == []
    assert (await snapshot(sessions, chat.address)).flow == "reschedule"


async def test_own_words_after_48_hours_or_once_answered_are_not_a_check_in(
    chat: Chat, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    _, message_id = await _sent_check_in(chat, sessions, clock)
    await chat.choose(f"{message_id}:fine")
    await chat.send("dizzy")
    clock.set(EVENING + timedelta(hours=49))
    await chat.send("dizzy")
    rows = await check_ins(sessions)
    assert [row.scheduled_message_id for row in rows if row.scheduled_message_id] == [message_id]
    # Each "dizzy" still gets the clinic advice and reaches a person, as words nobody asked for.
    assert [(row.scheduled_message_id, row.level) for row in rows[1:]] == [
        (None, CheckInLevel.CLINIC_NOW)
    ] * 2


async def test_free_text_during_sign_up_is_never_a_check_in(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await chat.send("hello")
    replies = await chat.send("I can't breathe")
    assert replies[0].text.startswith("Please call emergency services now")  # guidance, even so
    assert await check_ins(sessions) == []  # but nothing stored before consent


async def test_an_unknown_or_someone_elses_message_has_expired(
    make_chat: Callable[..., Chat], sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    first, second = make_chat("tg-1"), make_chat("tg-2")
    await signed_up(second, sessions)
    _, message_id = await _sent_check_in(first, sessions, clock)

    await second.choose(f"{message_id}:help_now")
    assert "That question has expired." in second.text
    await first.choose("999999:fine")
    assert "That question has expired." in first.text
    await first.choose(f"{message_id}:yes")  # not an option of a check-in
    assert "That question has expired." in first.text
    assert await check_ins(sessions) == []


async def test_a_failing_alerter_loses_neither_the_row_nor_the_reply(
    make_engine: Callable[..., DialogEngine], sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    alerter = FailingAlerter()
    chat = Chat(make_engine(alerter=alerter))
    _, message_id = await _sent_check_in(chat, sessions, clock)

    replies = await chat.choose(f"{message_id}:help_now")

    assert replies[0].text.startswith("Please call emergency services now")
    assert alerter.calls == 1
    [row] = await check_ins(sessions)
    assert row.flagged and row.level is CheckInLevel.EMERGENCY and row.alerted_at is None  # retried later


async def test_the_nudges_buttons_answer_the_check_in_it_is_about(
    chat: Chat, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    _, message_id = await _sent_check_in(chat, sessions, clock)
    async with sessions() as session, session.begin():
        check_in = await session.get_one(ScheduledMessage, message_id)
        nudge_id = (await alerts.add_nudge(session, check_in, clock.now(), clock.now())).id
    await chat.choose(f"{nudge_id}:fine")
    [row] = await check_ins(sessions)
    assert (row.scheduled_message_id, row.level) == (message_id, CheckInLevel.FINE)
    assert (await message(sessions, nudge_id)).status is MessageStatus.CANCELLED  # no longer sent


async def test_an_emergency_in_own_words_with_no_check_in_open_gets_the_call_first_and_alerts(
    alerted_chat: Chat, sessions: async_sessionmaker[AsyncSession], alerter: RecordingAlerter
) -> None:
    await signed_up(alerted_chat, sessions)

    replies = await alerted_chat.send("i cant breathe and my throat is swelling")

    assert replies[0].text.startswith("Please call emergency services now: 112.")
    [alert] = alerter.alerts
    assert alert.level == "emergency"
    [row] = await check_ins(sessions)
    assert (row.scheduled_message_id, row.flagged) == (None, True)


async def test_an_emergency_mid_flow_gets_the_call_then_the_same_question_again(
    alerted_chat: Chat, sessions: async_sessionmaker[AsyncSession], alerter: RecordingAlerter
) -> None:
    await signed_up(alerted_chat, sessions)
    asked = await alerted_chat.send("/reschedule")
    before = await snapshot(sessions, alerted_chat.address)

    replies = await alerted_chat.send("I can't breathe")

    assert replies[0].text.startswith("Please call emergency services now: 112.")
    assert replies[-1].text == asked[-1].text  # the question in progress, asked again
    after = await snapshot(sessions, alerted_chat.address)
    assert (after.flow, after.step) == (before.flow, before.step)
    assert len(alerter.alerts) == 1


async def test_an_emergency_at_first_contact_gets_the_call_and_then_sign_up_begins(
    alerted_chat: Chat, alerter: RecordingAlerter
) -> None:
    replies = await alerted_chat.send("help my throat is swelling")

    assert replies[0].text.startswith("Please call emergency services now: 112.")
    assert alerted_chat.keys[:1] == ["yes"]  # then the consent question, as for any first message
    assert alerter.alerts == []  # no consent yet: nothing stored, nobody told


async def test_everyday_words_while_idle_are_not_triaged(
    alerted_chat: Chat, sessions: async_sessionmaker[AsyncSession], alerter: RecordingAlerter
) -> None:
    await signed_up(alerted_chat, sessions)
    await alerted_chat.send("can I get the flu shot?")
    assert alerter.alerts == [] and await check_ins(sessions) == []
