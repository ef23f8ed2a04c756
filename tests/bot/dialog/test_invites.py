"""Clinic invite codes: the address joins the enrolled patient and sign-up skips what the clinic filled in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
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


async def test_a_leftover_invite_dies_when_another_is_used_and_links_no_stranger(
    make_chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    invited = await enroll(sessions, "LEFTOVER")  # texted to a mistyped number
    async with sessions() as session, session.begin():
        session.add(
            Invite(code="USEDBYME", patient_id=invited, created_at=START, expires_at=START + timedelta(9))
        )
    patient_chat = make_chat("tg-patient")
    await patient_chat.send("/start USEDBYME", start_payload="USEDBYME")
    await patient_chat.send("sí")
    await patient_chat.choose("no")
    await patient_chat.choose("confirm")
    assert "¡Todo listo, Carmen!" in patient_chat.text
    async with sessions() as session:
        leftover = await session.scalar(select(Invite).where(Invite.code == "LEFTOVER"))
        assert leftover is not None and leftover.used_at is None and leftover.expires_at <= START
    stranger = make_chat("tg-stranger")
    await stranger.send("/start LEFTOVER", start_payload="LEFTOVER")
    assert "invitation code didn't work" in stranger.text and "Carmen" not in stranger.text
    assert (await patient_of(sessions, "tg-stranger")).id != invited


@pytest.mark.parametrize(
    ("status", "sandbox"),
    [(PatientStatus.ACTIVE, False), (PatientStatus.PAUSED, False), (PatientStatus.SIGNING_UP, True)],
    ids=["active", "paused", "sandbox"],
)
async def test_an_open_code_never_links_a_patient_past_sign_up_or_in_the_sandbox(
    chat: Chat, sessions: async_sessionmaker[AsyncSession], status: PatientStatus, sandbox: bool
) -> None:
    invited = await enroll(sessions)
    async with sessions() as session, session.begin():
        patient = await session.get_one(Patient, invited)
        patient.status, patient.sandbox, patient.consented_at = status, sandbox, START
    await chat.send("/start ABC123", start_payload="ABC123")
    assert "invitation code didn't work" in chat.text and "Carmen" not in chat.text
    assert (await patient_of(sessions, chat.address)).id != invited
    async with sessions() as session:
        invite = await session.scalar(select(Invite))
        assert invite is not None and invite.used_at is None
