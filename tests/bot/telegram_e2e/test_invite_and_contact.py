"""A clinic's invite link (/start CODE) over Telegram, and the SMS number given by sharing a contact."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Channel, ChannelAddress, Invite, Patient, PatientStatus
from tests.bot.dialog.helpers import START, patient_of, snapshot
from tests.bot.dialog.test_invites import enroll
from tests.bot.telegram_e2e.harness import Bot, User


async def _to_phone_question(user: User) -> None:
    await user.send("hi")
    await user.tap("yes")
    await user.send("Ana")
    await user.send("Madrid")
    await user.tap("yes")
    await user.tap("iv")
    await user.tap("six_monthly")
    await user.send("3 June")
    await user.send("12 March 9:30")
    await user.tap("skip")
    assert "SMS" in user.text and "Share your contact" in user.text


async def _sms_address(sessions: async_sessionmaker[AsyncSession], patient_id: int) -> str | None:
    async with sessions() as session:
        return await session.scalar(
            select(ChannelAddress.address).where(
                ChannelAddress.patient_id == patient_id, ChannelAddress.channel == Channel.SMS
            )
        )


async def test_an_invite_deep_link_links_the_clinics_record(
    bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    invited = await enroll(sessions, "CLINIC-7301")
    user = bot.user(7301, "en")  # Telegram in English; the clinic wrote Spanish on the record
    await user.send("/start CLINIC-7301")
    assert "Tu clínica te ha invitado" in user.text and "¿Estás de acuerdo?" in user.text
    await user.tap("yes")
    assert "SMS" in user.text  # name, zone, treatment and appointment came from the clinic
    await user.tap("no")
    assert "Nombre: Carmen" in user.text and "Hospital 12 de Octubre" in user.text
    await user.tap("confirm")
    assert "¡Todo listo, Carmen!" in user.text
    patient = await patient_of(sessions, "7301")
    assert (patient.id, patient.status) == (invited, PatientStatus.ACTIVE)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Patient)) == 1
        assert await session.scalar(select(Invite.used_at)) == START


async def test_a_used_invite_link_is_refused_and_sign_up_goes_on(
    bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await enroll(sessions, "CLINIC-7302")
    await bot.user(7302).send("/start CLINIC-7302")
    other = bot.user(7303)
    await other.send("/start CLINIC-7302")
    assert "invitation code didn't work" in other.text and "Do you agree?" in other.text
    assert (await snapshot(sessions, "7303")).step == "consent"


async def test_the_phone_question_offers_a_share_my_number_button_and_a_typed_no(
    bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = bot.user(7306)
    await _to_phone_question(user)
    keyboard = user.last[-1]["reply_markup"]
    assert keyboard["keyboard"] == [
        [{"text": "Share my number", "request_contact": True}],
        [{"text": "No, thanks"}],
    ]
    assert keyboard["one_time_keyboard"] is True
    await user.send("/help")  # the help text takes the keyboard away; the question brings it back
    assert [reply.get("reply_markup") for reply in user.last] == [{"remove_keyboard": True}, keyboard]
    await user.send("No, thanks")  # what the keyboard's other button types
    assert "SMS: none" in user.text and user.keys == ["confirm", "restart"]
    await user.tap("confirm")
    patient = await patient_of(sessions, "7306")
    assert await _sms_address(sessions, patient.id) is None and not patient.sms_consent


async def test_sharing_ones_own_contact_gives_the_sms_number_in_e164(
    bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = bot.user(7304)
    await _to_phone_question(user)
    # Telegram sends the number of a contact shared from the "share my number" button as digits only
    contact = {"phone_number": "34600123456", "first_name": "Ana", "user_id": 7304}
    await user.post(contact=contact)
    assert "SMS: +34600123456" in user.text and user.keys == ["confirm", "restart"]
    await user.tap("confirm")
    patient = await patient_of(sessions, "7304")
    assert await _sms_address(sessions, patient.id) == "+34600123456"
    assert not patient.sms_consent  # shared or typed, SMS starts when that phone replies YES


async def test_an_own_contact_from_another_country_keeps_its_country_code(
    bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = bot.user(7305)
    await _to_phone_question(user)  # in Madrid, with a British number
    await user.post(contact={"phone_number": "447911123456", "first_name": "Ana", "user_id": 7305})
    assert "SMS: +447911123456" in user.text, user.text
    await user.tap("confirm")
    patient = await patient_of(sessions, "7305")
    assert await _sms_address(sessions, patient.id) == "+447911123456"


async def test_a_contact_outside_the_phone_question_changes_nothing(
    bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = bot.user(7306)
    await user.send("hi")
    await user.tap("yes")
    before = await snapshot(sessions, "7306")
    await user.post(contact={"phone_number": "34600123456", "first_name": "Ana", "user_id": 7306})
    assert "don't need a phone number right now" in user.text and "What name" in user.text
    assert await snapshot(sessions, "7306") == before
