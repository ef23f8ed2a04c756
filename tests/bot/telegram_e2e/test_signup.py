"""Whole sign-ups over Telegram, in English and Spanish, and a restart in the middle of one."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from care.formulation import Formulation
from storage.db import create_engine, session_factory
from storage.models import Channel, ChannelAddress, Dose, DoseStatus, Language, PatientStatus, TreatmentCourse
from tests.bot.dialog.helpers import patient_of, snapshot
from tests.bot.telegram_e2e.harness import Bot, english_sign_up


async def test_a_whole_sign_up_in_english_with_buttons(
    bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = bot.user(7001, "en-GB")
    await english_sign_up(user)
    patient = await patient_of(sessions, "7001")
    assert (patient.status, patient.language, patient.timezone, patient.display_name) == (
        PatientStatus.ACTIVE,
        Language.EN,
        "Europe/Madrid",
        "Ana",
    )
    async with sessions() as session:
        course = await session.scalar(select(TreatmentCourse).where(TreatmentCourse.patient_id == patient.id))
        assert course is not None and course.formulation is Formulation.IV
        doses = list(
            await session.scalars(select(Dose).where(Dose.course_id == course.id).order_by(Dose.number))
        )
    assert [(dose.status, dose.planned_at) for dose in doses] == [
        (DoseStatus.GIVEN, datetime(2026, 6, 3, 10, tzinfo=UTC)),  # midday in Madrid (CEST)
        (DoseStatus.PLANNED, datetime(2027, 3, 12, 8, 30, tzinfo=UTC)),  # 09:30 in Madrid (CET)
    ]
    sent = bot.sent_to(7001)
    assert all(reply["method"] == "sendMessage" for reply in sent)
    assert all(len(reply["text"]) <= 4096 for reply in sent)
    answered = [call for call in bot.fake.calls if call.method == "answerCallbackQuery"]
    assert len(answered) == 6  # every tap is acknowledged (Telegram shows a spinner until then)


async def test_a_whole_sign_up_in_spanish_from_telegrams_language_code(
    bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = bot.user(7002, "es-MX", first_name="María")
    await user.send("hola")
    assert "¿Estás de acuerdo?" in user.text and user.labels[:2] == ["Sí, acepto", "No, gracias"]
    await user.send("sí")
    await user.send("María José")
    assert "¡Encantado de conocerte, María José!" in user.text
    await user.send("Buenos Aires")
    await user.send("sí")
    await user.tap("sc")
    await user.tap("six_monthly")
    await user.send("15 de octubre")
    await user.send("el 20 de marzo de 2027 a las 4 de la tarde")
    await user.send("Hospital Italiano")
    await user.send("+54 9 11 2345 6789")
    assert "Próxima cita: sáb, 20 mar 2027, 16:00, en Hospital Italiano" in user.text
    assert "+5491123456789" in user.text
    await user.send("1")
    assert "¡Todo listo, María José!" in user.text
    patient = await patient_of(sessions, "7002")
    assert (patient.language, patient.timezone, patient.formulation, patient.status) == (
        Language.ES,
        "America/Argentina/Buenos_Aires",
        Formulation.SC,
        PatientStatus.ACTIVE,
    )
    async with sessions() as session:
        sms = await session.scalar(
            select(ChannelAddress.address).where(
                ChannelAddress.patient_id == patient.id, ChannelAddress.channel == Channel.SMS
            )
        )
    assert sms == "+5491123456789"


async def test_an_unknown_language_code_falls_back_to_english(bot: Bot) -> None:
    user = bot.user(7003, "de")
    await user.send("Hallo")
    assert "Do you agree?" in user.text


async def test_a_restart_in_the_middle_of_sign_up_continues_where_it_was(
    bot: Bot, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = bot.user(7004, "en")
    await user.send("hi")
    await user.tap("yes")
    await user.send("Ana")
    await user.send("Madrid")
    await user.tap("yes")
    await user.tap("iv")
    before = await snapshot(sessions, "7004")
    assert before.step == "stage"

    await bot.stop()  # the process goes away: a new engine, a new database pool, a new Application
    other_engine = create_engine(database_url)
    try:
        await bot.start(session_factory(other_engine))
        assert await snapshot(bot.sessions, "7004") == before
        await user.send("/start")
        assert "Where are you in your treatment?" in user.text  # the open question, asked again
        await user.tap("six_monthly")
        await user.send("3 June")
        await user.send("12 March 9:30")
        await user.tap("skip")
        await user.tap("no")
        assert "Name: Ana" in user.text and "Madrid" in user.text
        await user.tap("confirm")
        assert "You're all set, Ana!" in user.text
        await bot.stop()
    finally:
        await other_engine.dispose()
    patient = await patient_of(sessions, "7004")
    assert (patient.status, patient.timezone) == (PatientStatus.ACTIVE, "Europe/Madrid")
