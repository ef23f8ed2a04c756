"""Sign-up through `DialogEngine.step`, in English and Spanish, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dialog import DialogEngine, texts
from care.clock import FakeClock
from care.formulation import Formulation
from care.plan import ReminderPlan
from storage import patients, sms
from storage.models import (
    Channel,
    ChannelAddress,
    Dose,
    DoseStatus,
    Language,
    MessageStatus,
    Patient,
    PatientStatus,
    ScheduledMessage,
    TreatmentCourse,
)
from storage.outbox import SMS_CONFIRM
from tests.bot.dialog.helpers import START, Chat, patient_of, sign_up, snapshot


async def test_whole_signup_in_english_stores_the_course_and_plans_reminders(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await chat.send("hi")
    assert "emergency services" in chat.text and "/stop" in chat.text and "medical advice" in chat.text
    assert chat.keys == ["yes", "no", "cmd:language:es"]
    await chat.choose("yes")
    assert "What name" in chat.text
    await chat.send("Ana")
    assert "Nice to meet you, Ana!" in chat.text and "city or country" in chat.text
    await chat.send("Madrid")
    assert "In Madrid it's" in chat.text and "10:00" in chat.text  # local time now, to confirm
    await chat.choose("yes")
    assert "Time zone set: Madrid" in chat.text and chat.keys == ["iv", "sc"]
    await chat.choose("iv")
    assert chat.keys == ["not_started", "between_infusions", "six_monthly"]
    await chat.choose("six_monthly")
    assert "last infusion" in chat.text
    await chat.send("3 June")
    assert "next appointment" in chat.text
    await chat.send("12 March 9:30")
    assert "Where is the appointment" in chat.text
    await chat.send("Hospital La Paz")
    assert "SMS" in chat.text
    await chat.send("+34 600 123 456")
    summary = chat.text
    for expected in (
        "Ana",
        "Madrid",
        "Infusion into a vein",
        "3 Jun 2026",
        "12 Mar 2027, 09:30, at Hospital La Paz",
    ):
        assert expected in summary
    assert "+34600123456" in summary
    assert "Thu, 11 Mar 2027, 18:00: reminder: your appointment is tomorrow" in summary  # local wall clock
    assert chat.keys == ["confirm", "restart"]
    await chat.choose("confirm")
    assert "all set, Ana" in chat.text

    patient = await patient_of(sessions, chat.address)
    assert (patient.status, patient.language, patient.timezone, patient.country) == (
        PatientStatus.ACTIVE,
        Language.EN,
        "Europe/Madrid",
        "ES",
    )
    assert patient.consented_at is not None and not patient.sms_consent  # SMS waits for the phone's own YES
    assert "YES" not in chat.text  # SMS is not configured here: no text is promised
    async with sessions() as session:
        course = await session.scalar(select(TreatmentCourse).where(TreatmentCourse.patient_id == patient.id))
        assert course is not None and course.formulation is Formulation.IV
        doses = list(
            await session.scalars(select(Dose).where(Dose.course_id == course.id).order_by(Dose.number))
        )
        assert [(d.number, d.status, d.kind) for d in doses] == [
            (3, DoseStatus.GIVEN, "iv_600mg"),
            (4, DoseStatus.PLANNED, "iv_600mg"),
        ]
        assert doses[1].planned_at == datetime(2027, 3, 12, 8, 30, tzinfo=UTC)  # 09:30 in Madrid (CET)
        assert doses[1].location == "Hospital La Paz"
        sms = await session.scalar(
            select(ChannelAddress).where(
                ChannelAddress.patient_id == patient.id, ChannelAddress.channel == Channel.SMS
            )
        )
        assert sms is not None and sms.address == "+34600123456"
        pending = await session.scalar(
            select(func.count())
            .select_from(ScheduledMessage)
            .where(
                ScheduledMessage.patient_id == patient.id, ScheduledMessage.status == MessageStatus.PENDING
            )
        )
        assert pending and pending >= 5
    assert (await snapshot(sessions, chat.address)).flow is None


async def test_whole_signup_in_spanish_from_the_language_hint(
    make_chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    chat = make_chat("tg-es", language_hint="es-MX")
    await chat.send("hola")
    assert "¿Estás de acuerdo?" in chat.text and "emergencias" in chat.text
    await chat.send("sí")
    await chat.send("María José")
    assert "¡Encantado de conocerte, María José!" in chat.text
    await chat.send("Buenos Aires")
    assert "En Buenos Aires son las 6:00 del jue, 26 nov 2026" in chat.text
    await chat.send("sí")
    await chat.choose("sc")
    assert chat.keys == ["not_started", "six_monthly"]
    await chat.choose("six_monthly")
    await chat.send("15 de octubre")
    await chat.send("el 20 de marzo de 2027 a las 4 de la tarde")
    await chat.send("Hospital Italiano")
    await chat.send("no")
    assert "Próxima cita: sáb, 20 mar 2027, 16:00, en Hospital Italiano" in chat.text
    assert "Inyección bajo la piel" in chat.text
    await chat.send("1")  # the number of the first option
    assert "¡Todo listo, María José!" in chat.text
    patient = await patient_of(sessions, "tg-es")
    assert (patient.language, patient.timezone, patient.country, patient.formulation) == (
        Language.ES,
        "America/Argentina/Buenos_Aires",
        "AR",
        Formulation.SC,
    )


async def test_the_patient_switches_language_at_consent(make_chat) -> None:
    chat = make_chat("tg-switch")
    await chat.send("hi")
    await chat.choose("cmd:language:es")
    assert "A partir de ahora te escribiré en español." in chat.text and "¿Estás de acuerdo?" in chat.text
    await chat.send("/language en")
    assert "From now on I'll write in English." in chat.text and "Do you agree?" in chat.text


async def test_declining_consent_keeps_nothing(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await chat.send("hi")
    await chat.choose("no")
    assert "kept nothing" in chat.text
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Patient)) == 0
        assert await session.scalar(select(func.count()).select_from(ChannelAddress)) == 0


async def test_a_new_engine_resumes_a_signup_after_a_restart(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan, clock: FakeClock
) -> None:
    first = Chat(
        DialogEngine(sessions, plan, clock, default_timezone="UTC", default_language="en"), "tg-restart"
    )
    await first.send("hi")
    await first.choose("yes")
    await first.send("Ana")
    await first.send("London")
    await first.choose("yes")
    assert first.keys == ["iv", "sc"]
    restarted = Chat(
        DialogEngine(sessions, plan, clock, default_timezone="UTC", default_language="en"), "tg-restart"
    )
    await restarted.send("/start")
    assert restarted.keys == ["iv", "sc"]  # the same question again, nothing lost
    await restarted.choose("iv")
    assert restarted.keys == ["not_started", "between_infusions", "six_monthly"]
    patient = await patient_of(sessions, "tg-restart")
    assert (patient.display_name, patient.timezone, patient.formulation) == (
        "Ana",
        "Europe/London",
        Formulation.IV,
    )


async def test_start_again_clears_the_answers(chat: Chat, sessions: async_sessionmaker[AsyncSession]) -> None:
    await sign_up_to_summary(chat)
    await chat.choose("restart")
    assert "What name" in chat.text
    snap = await snapshot(sessions, chat.address)
    assert (snap.step, snap.data) == ("name", {})
    patient = await patient_of(sessions, chat.address)
    assert patient.display_name is None and patient.formulation is None and patient.consented_at is not None


async def sign_up_to_summary(chat: Chat) -> None:
    await chat.send("hi")
    await chat.choose("yes")
    await chat.send("Ana")
    await chat.send("Madrid")
    await chat.choose("yes")
    await chat.choose("iv")
    await chat.choose("not_started")
    await chat.choose("no_date")
    await chat.choose("no")
    assert chat.keys == ["confirm", "restart"]


async def test_no_appointment_yet_signs_up_without_reminders(chat: Chat) -> None:
    await sign_up_to_summary(chat)
    assert "not booked yet" in chat.text and "none yet" in chat.text
    await chat.choose("confirm")
    await chat.send("/next")
    assert "no appointment saved" in chat.text


async def test_signup_by_sms_skips_the_phone_question_and_records_sms_consent(
    make_chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    chat = make_chat("+34600111222", channel=Channel.SMS)
    await chat.send("hola")
    await chat.choose("yes")
    await chat.send("Luis")
    await chat.send("Sevilla")
    await chat.choose("yes")
    await chat.choose("iv")
    await chat.choose("not_started")
    await chat.send("10 December 10:00")
    await chat.choose("skip")
    assert chat.keys == ["confirm", "restart"]  # no SMS question: this is SMS
    await chat.choose("confirm")
    patient = await patient_of(sessions, "+34600111222", Channel.SMS)
    assert patient.sms_consent and patient.status is PatientStatus.ACTIVE


async def test_an_invalid_phone_is_refused_and_nothing_is_stored(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await reach_phone_step(chat)
    before = await snapshot(sessions, chat.address)
    await chat.send("12345")
    assert "doesn't look like a valid phone number" in chat.text
    assert await snapshot(sessions, chat.address) == before
    await chat.send(None, contact_phone="+44 7911 123456")  # a shared contact
    assert "SMS: +447911123456" in chat.text


async def test_a_number_registered_to_someone_else_is_refused(
    make_chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    owner = make_chat("+447911123456", channel=Channel.SMS)
    await owner.send("hi")
    chat = make_chat("tg-taken")
    await reach_phone_step(chat)
    await chat.send("+44 7911 123456")
    assert "already registered" in chat.text
    assert "phone" not in (await snapshot(sessions, "tg-taken")).data


async def reach_phone_step(chat: Chat) -> None:
    await chat.send("hi")
    await chat.choose("yes")
    await chat.send("Ana")
    await chat.send("London")
    await chat.choose("yes")
    await chat.choose("sc")
    await chat.choose("not_started")
    await chat.send("2027-01-15 10:30")
    await chat.choose("skip")
    assert "SMS" in chat.text and chat.keys == ["no"]


async def test_a_date_breaking_the_five_month_rule_needs_confirming(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await chat.send("hi")
    await chat.choose("yes")
    await chat.send("Ana")
    await chat.send("Madrid")
    await chat.choose("yes")
    await chat.choose("iv")
    await chat.choose("six_monthly")
    await chat.send("1 October 2026")
    await chat.send("10 January 9:00")  # 3 months after the last dose
    assert "at least 5 months apart" in chat.text and "check with your clinic" in chat.text
    assert chat.keys == ["keep", "change"]
    await chat.choose("change")
    assert "next appointment" in chat.text
    await chat.send("10 January 9:00")
    await chat.choose("keep")
    assert "Where is the appointment" in chat.text
    assert (await snapshot(sessions, chat.address)).data["appointment"] == "2027-01-10T08:00:00+00:00"


async def test_a_date_without_a_time_asks_for_the_time_and_a_past_date_is_refused(chat: Chat) -> None:
    await chat.send("hi")
    await chat.choose("yes")
    await chat.send("Ana")
    await chat.send("New York")
    await chat.choose("yes")
    await chat.choose("iv")
    await chat.choose("not_started")
    await chat.send("2026-01-10 10:00")
    assert "has already passed" in chat.text and "next appointment" in chat.text
    await chat.send("12/03")  # New York reads month first: December 3
    assert "What time is it on Thu, Dec 3, 2026?" in chat.text
    await chat.send("2pm")
    assert "Where is the appointment" in chat.text


async def test_with_sms_on_a_typed_number_is_texted_once_for_its_own_yes(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan, clock: FakeClock
) -> None:
    engine = DialogEngine(
        sessions, plan, clock, default_timezone="UTC", default_language="en", sms_enabled=True
    )
    chat = Chat(engine, "tg-sms-on")
    await sign_up(chat, phone="+34 600 123 456")
    assert (
        "Reply YES from that phone" in chat.text and "+34600123456" in chat.text and "Telegram" in chat.text
    )
    await chat.choose("confirm")  # the summary's button again: stale, nothing is queued twice

    patient = await patient_of(sessions, chat.address)
    assert patient.consented_at is not None and not patient.sms_consent
    async with sessions() as session, session.begin():
        [row] = await session.scalars(select(ScheduledMessage).where(ScheduledMessage.kind == SMS_CONFIRM))
        address = await session.get_one(ChannelAddress, sms.confirm_address_id(row.dedupe_key))
        queued = await patients.queued_text(session, row.id)
        again = await sms.queue_confirmation(session, patient.id, address.id, "again", START)
    assert (row.status, row.channel, row.due_at) == (MessageStatus.PENDING, Channel.SMS, START)
    assert address.address == "+34600123456"
    assert queued == texts.say("en", "sms_confirm_request") and "STOP" in queued
    assert again is False  # one request per address, ever
