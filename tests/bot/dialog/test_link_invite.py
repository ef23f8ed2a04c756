"""A link invite: a new Telegram chat joins a patient already signed up (by SMS, or on an old Telegram
account) without a new sign-up; a chat of another patient is refused and nothing changes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from care.formulation import Formulation
from storage.models import (
    ActorType,
    AddressState,
    AuditLog,
    Channel,
    ChannelAddress,
    DialogState,
    Invite,
    Language,
    Patient,
    PatientStatus,
)
from tests.bot.dialog.helpers import START, Chat, patient_of, sign_up

PHONE = "+34600111222"


async def signed_up_by_sms(
    sessions: async_sessionmaker[AsyncSession],
    language: Language = Language.EN,
    status: PatientStatus = PatientStatus.ACTIVE,
) -> int:
    """Adds a patient who signed up by SMS (consented, SMS on): no Telegram chat."""
    async with sessions() as session, session.begin():
        patient = Patient(
            display_name="Lola", language=language, timezone="Europe/Madrid", country="ES", status=status,
            formulation=Formulation.IV, stage="six_monthly", consented_at=START - timedelta(days=40),
            consent_version="1", sms_consent=True, created_at=START - timedelta(days=40), updated_at=START,
        )  # fmt: skip
        session.add(patient)
        await session.flush()
        session.add(
            ChannelAddress(patient_id=patient.id, channel=Channel.SMS, address=PHONE, state_changed_at=START)
        )
        return patient.id


async def link_invite(sessions: async_sessionmaker[AsyncSession], patient_id: int, code: str) -> int:
    """Adds an invite as the console makes one for a patient already signed up (its audit row says link)."""
    async with sessions() as session, session.begin():
        invite = Invite(code=code, patient_id=patient_id, created_at=START, expires_at=START + timedelta(30))
        session.add(invite)
        await session.flush()
        session.add(
            AuditLog(
                at=START, actor_type=ActorType.OPERATOR, patient_id=patient_id, action="invite.create",
                detail={"invite": invite.id, "link": True},
            )
        )  # fmt: skip
        return invite.id


async def _invite(sessions: async_sessionmaker[AsyncSession], code: str) -> Invite:
    async with sessions() as session:
        return (await session.scalars(select(Invite).where(Invite.code == code))).one()


async def _addresses(sessions: async_sessionmaker[AsyncSession], patient_id: int) -> dict[str, AddressState]:
    async with sessions() as session:
        rows = await session.execute(
            select(ChannelAddress.address, ChannelAddress.state).where(
                ChannelAddress.patient_id == patient_id
            )
        )
        return dict(rows.tuples().all())


async def _timeline(sessions: async_sessionmaker[AsyncSession], patient_id: int) -> list[tuple[str, dict]]:
    async with sessions() as session:
        rows = await session.scalars(
            select(AuditLog).where(AuditLog.patient_id == patient_id, AuditLog.action.like("channel_%"))
        )
        return [(row.action, row.detail) for row in rows]


@pytest.mark.parametrize(
    ("language", "said"),
    [
        (Language.EN, "Linked. Your reminders will come here now."),
        (Language.ES, "Listo. Tus recordatorios llegarán aquí a partir de ahora."),
    ],
    ids=["en", "es"],
)
async def test_a_new_chat_joins_a_patient_signed_up_by_sms_without_a_new_sign_up(
    chat: Chat, sessions: async_sessionmaker[AsyncSession], language: Language, said: str
) -> None:
    patient_id = await signed_up_by_sms(sessions, language)
    await link_invite(sessions, patient_id, "LINKOLD1")
    await link_invite(sessions, patient_id, "LINKNEW1")  # as the console does, the older one would expire
    async with sessions() as session, session.begin():  # (here it is left open to see redeem expire it)
        old = (await session.scalars(select(Invite).where(Invite.code == "LINKOLD1"))).one()
        old.expires_at = START + timedelta(days=30)
    await chat.send("/start LINKNEW1", start_payload="LINKNEW1")
    assert chat.text == said
    patient = await patient_of(sessions, chat.address)
    assert (patient.id, patient.status, patient.sms_consent) == (patient_id, PatientStatus.ACTIVE, True)
    assert await _addresses(sessions, patient_id) == {
        PHONE: AddressState.ACTIVE,
        "tg-1001": AddressState.ACTIVE,
    }
    assert (await _invite(sessions, "LINKNEW1")).used_at == START
    leftover = await _invite(sessions, "LINKOLD1")
    assert leftover.used_at is None and leftover.expires_at <= START
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Patient)) == 1  # no sign-up was kept
        state = (await session.scalars(select(DialogState))).one()
        assert state.flow is None and state.step is None
    assert await _timeline(sessions, patient_id) == [
        (
            "channel_linked",
            {
                "channel": "telegram",
                "cause": "telegram: a chat was linked by invite",
                "now_via": ["telegram", "sms"],
            },
        )
    ]


async def test_a_chat_half_way_through_its_own_sign_up_is_linked_and_that_sign_up_discarded(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    patient_id = await signed_up_by_sms(sessions, status=PatientStatus.PAUSED)
    await link_invite(sessions, patient_id, "LINKPAUS")
    await chat.send("hi")
    await chat.choose("yes")
    await chat.send("Lola")
    await chat.send("/start LINKPAUS", start_payload="LINKPAUS")
    assert chat.text == "Linked. Your reminders will come here now."
    patient = await patient_of(sessions, chat.address)
    assert (patient.id, patient.status) == (patient_id, PatientStatus.PAUSED)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Patient)) == 1


async def test_a_new_chat_replaces_every_earlier_chat_and_an_old_one_writing_again_is_a_stranger(
    make_chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    old_chat = make_chat("tg-old")
    await sign_up(old_chat)
    patient = await patient_of(sessions, "tg-old")
    async with sessions() as session, session.begin():
        session.add(
            ChannelAddress(
                patient_id=patient.id, channel=Channel.TELEGRAM, address="tg-blocked",
                state=AddressState.BLOCKED, state_changed_at=START,
            )
        )  # fmt: skip
    await link_invite(sessions, patient.id, "LINKSWAP")
    new_chat = make_chat("tg-new")
    await new_chat.send("/start LINKSWAP", start_payload="LINKSWAP")
    assert new_chat.text == "Linked. Your reminders will come here now."
    assert await _addresses(sessions, patient.id) == {"tg-new": AddressState.ACTIVE}
    [(action, detail)] = await _timeline(sessions, patient.id)
    assert action == "channel_linked" and "replaces 2 earlier chat" in detail["cause"]
    assert detail["now_via"] == ["telegram"]
    await old_chat.send("/next")  # a lost phone, a handed-on account: it reads nothing of the record
    assert (await patient_of(sessions, "tg-old")).id != patient.id
    assert patient.display_name not in old_chat.text


async def test_a_chat_of_another_signed_up_patient_is_refused_and_nothing_changes(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    patient_id = await signed_up_by_sms(sessions)
    await link_invite(sessions, patient_id, "LINKOTHR")
    await sign_up(chat)
    await chat.send("/start LINKOTHR", start_payload="LINKOTHR")
    assert "already signed up" in chat.text
    assert (await patient_of(sessions, chat.address)).display_name == "Ana"
    assert await _addresses(sessions, patient_id) == {PHONE: AddressState.ACTIVE}
    assert (await _invite(sessions, "LINKOTHR")).used_at is None
    assert await _timeline(sessions, patient_id) == []


async def test_the_patients_own_chat_hears_it_is_already_linked(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await sign_up(chat)
    patient = await patient_of(sessions, chat.address)
    await link_invite(sessions, patient.id, "LINKSAME")
    await chat.send("/start LINKSAME", start_payload="LINKSAME")
    assert "already linked to your clinic" in chat.text
    assert (await _invite(sessions, "LINKSAME")).used_at is None


async def test_a_link_code_texted_by_sms_links_no_number(
    make_chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    patient_id = await signed_up_by_sms(sessions)
    await link_invite(sessions, patient_id, "LINKSMS1")
    phone = make_chat("+34600999888", channel=Channel.SMS)
    await phone.send("JOIN LINKSMS1", start_payload="LINKSMS1")
    assert "invitation code didn't work" in phone.text and "Lola" not in phone.text
    assert (await patient_of(sessions, "+34600999888", Channel.SMS)).id != patient_id
    assert (await _invite(sessions, "LINKSMS1")).used_at is None


async def test_a_link_code_for_a_stopped_patient_links_nobody(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    patient_id = await signed_up_by_sms(sessions, status=PatientStatus.STOPPED)
    await link_invite(sessions, patient_id, "LINKSTOP")
    await chat.send("/start LINKSTOP", start_payload="LINKSTOP")
    assert "invitation code didn't work" in chat.text and "Do you agree?" in chat.text
    assert (await patient_of(sessions, chat.address)).id != patient_id


async def test_two_chats_opening_one_link_at_once_link_only_one(
    make_chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    patient_id = await signed_up_by_sms(sessions)
    await link_invite(sessions, patient_id, "LINKRACE")
    chats = [make_chat(f"tg-race-{index}") for index in range(2)]
    await asyncio.gather(*(chat.send("/start LINKRACE", start_payload="LINKRACE") for chat in chats))
    said = sorted(chat.text for chat in chats)
    assert said[0] == "Linked. Your reminders will come here now."
    assert "invitation code didn't work" in said[1]
    linked = await _addresses(sessions, patient_id)
    assert len(linked) == 2 and PHONE in linked  # the SMS number and one chat
