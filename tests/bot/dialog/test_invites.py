"""Clinic invite codes: the address joins the enrolled patient and sign-up skips what the clinic filled in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from care.formulation import Formulation
from storage.models import (
    Dose,
    DoseStatus,
    Invite,
    Language,
    MessageStatus,
    Patient,
    PatientStatus,
    ScheduledMessage,
    TreatmentCourse,
)
from tests.bot.dialog.helpers import START, Chat, patient_of, sign_up


async def enroll(
    sessions: async_sessionmaker[AsyncSession], code: str = "ABC123", **invite_fields: object
) -> int:
    """Adds an operator's enrollment: a Spanish patient on 6-monthly IV, two doses, an invite."""
    async with sessions() as session, session.begin():
        patient = Patient(
            display_name="Carmen",
            language=Language.ES,
            timezone="Europe/Madrid",
            country="ES",
            status=PatientStatus.SIGNING_UP,
            formulation=Formulation.IV,
            stage="six_monthly",
            created_at=START,
            updated_at=START,
        )
        session.add(patient)
        await session.flush()
        course = TreatmentCourse(
            patient_id=patient.id, formulation=Formulation.IV, started_at=datetime(2025, 6, 1, tzinfo=UTC)
        )
        session.add(course)
        await session.flush()
        given = datetime(2026, 6, 1, 8, tzinfo=UTC)
        session.add_all(
            [
                Dose(course_id=course.id, number=3, kind="iv_600mg", amount_mg=600, planned_at=given,
                     given_at=given, status=DoseStatus.GIVEN, source="clinic"),
                Dose(course_id=course.id, number=4, kind="iv_600mg", amount_mg=600,
                     planned_at=datetime(2027, 2, 1, 8, tzinfo=UTC), location="Hospital 12 de Octubre",
                     status=DoseStatus.PLANNED, source="clinic"),
            ]
        )  # fmt: skip
        fields = {"created_at": START, "expires_at": START + timedelta(days=14), **invite_fields}
        session.add(Invite(code=code, patient_id=patient.id, **fields))
        return patient.id


async def test_an_invite_links_the_address_and_skips_what_the_clinic_filled_in(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    invited = await enroll(sessions)
    await chat.send("hi")  # a sign-up of its own starts...
    await chat.choose("yes")
    await chat.send("/start abc123", start_payload="abc123")  # ...then the deep link arrives
    assert "Tu clínica te ha invitado" in chat.text and "¿Estás de acuerdo?" in chat.text
    await chat.send("sí")
    assert "SMS" in chat.text  # name, zone, treatment and appointment came from the clinic
    await chat.choose("no")
    assert "Nombre: Carmen" in chat.text and "Hospital 12 de Octubre" in chat.text
    assert "Última dosis: lun, 1 jun 2026" in chat.text
    await chat.choose("confirm")
    assert "¡Todo listo, Carmen!" in chat.text
    patient = await patient_of(sessions, chat.address)
    assert (patient.id, patient.status) == (invited, PatientStatus.ACTIVE)
    async with sessions() as session:
        # the half-done sign-up of the address is gone
        assert await session.scalar(select(func.count()).select_from(Patient)) == 1
        invite = await session.scalar(select(Invite))
        assert invite is not None and invite.used_at == START
        assert await session.scalar(select(func.count()).select_from(TreatmentCourse)) == 1
        assert await session.scalar(select(func.count()).select_from(Dose)) == 2
        pending = await session.scalar(
            select(func.count())
            .select_from(ScheduledMessage)
            .where(ScheduledMessage.patient_id == invited, ScheduledMessage.status == MessageStatus.PENDING)
        )
        assert pending


async def test_unknown_expired_and_used_codes_are_refused_and_sign_up_goes_on(
    make_chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await enroll(sessions, "OLD", expires_at=START - timedelta(days=1))
    await enroll(sessions, "USED", used_at=START - timedelta(days=1))
    for index, code in enumerate(("NOPE", "OLD", "USED")):
        chat = make_chat(f"tg-code-{index}")
        await chat.send(f"/start {code}", start_payload=code)
        assert "invitation code didn't work" in chat.text and "Do you agree?" in chat.text, code


async def test_an_address_already_signed_up_cannot_take_an_invite(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await enroll(sessions)
    await sign_up(chat)
    await chat.send(None, start_payload="ABC123")
    assert "already signed up" in chat.text
    assert (await patient_of(sessions, chat.address)).display_name == "Ana"


async def test_declining_consent_after_an_invite_frees_the_code_and_keeps_the_clinics_record(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    invited = await enroll(sessions)
    await chat.send(None, start_payload="ABC123")
    await chat.choose("no")
    async with sessions() as session:
        patient = await session.get(Patient, invited)
        invite = await session.scalar(select(Invite))
        assert patient is not None and invite is not None and invite.used_at is None
        assert await session.scalar(select(func.count()).select_from(Patient)) == 1
