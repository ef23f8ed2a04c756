"""/tips over Telegram (the real PTB Application against the fake Bot API): the state with a button to switch,
the first tip written to the outbox at once, opting out cancelling it, in English and Spanish."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import MessageStatus, ScheduledMessage
from tests.bot.dialog.helpers import patient_of
from tests.bot.telegram_e2e.harness import Bot, english_sign_up

CHAT = 7301
FIRST_TIP = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # Tuesday 11:00 in Madrid, the plan's slot


async def _tips(
    sessions: async_sessionmaker[AsyncSession], patient_id: int
) -> list[tuple[MessageStatus, datetime]]:
    async with sessions() as session:
        rows = await session.scalars(
            select(ScheduledMessage)
            .where(ScheduledMessage.patient_id == patient_id, ScheduledMessage.kind == "tip")
            .order_by(ScheduledMessage.id)
        )
        return [(row.status, row.due_at) for row in rows]


async def test_tips_is_in_the_command_menu_in_both_languages(bot: Bot) -> None:
    registered = {
        call.params.get("language_code"): call.params["commands"]
        for call in bot.fake.calls
        if call.method == "setMyCommands" and call.status == 200
    }
    assert {"command": "tips", "description": "Weekly tips on or off"} in registered[None]
    assert {"command": "tips", "description": "Consejos semanales: sí o no"} in registered["es"]
    assert [entry["command"] for entry in registered[None]][4:6] == ["learn", "tips"]


async def test_a_patient_turns_tips_on_and_off_with_the_buttons(
    bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = bot.user(CHAT, "en")
    await english_sign_up(user)
    patient = await patient_of(sessions, str(CHAT))
    assert patient.weekly_tips is False

    await user.send("/tips")
    assert "Weekly tips are off" in user.text and user.keys == ["cmd:tips:on"]
    assert user.labels == ["Yes, send me tips"]
    await user.tap("cmd:tips:on")
    assert user.text == "Weekly tips are on. The first one comes on 1 December 2026. Send /tips to stop them."
    assert await _tips(sessions, patient.id) == [(MessageStatus.PENDING, FIRST_TIP)]
    assert (await patient_of(sessions, str(CHAT))).weekly_tips is True

    await user.send("/tips on")  # again: still one row
    assert "already on" in user.text
    assert await _tips(sessions, patient.id) == [(MessageStatus.PENDING, FIRST_TIP)]

    await user.send("/tips")
    assert "Weekly tips are on" in user.text and user.keys == ["cmd:tips:off"]
    await user.tap("cmd:tips:off")
    assert user.text == "Weekly tips are off: no more tips. Send /tips to turn them back on."
    assert await _tips(sessions, patient.id) == [(MessageStatus.CANCELLED, FIRST_TIP)]
    assert (await patient_of(sessions, str(CHAT))).weekly_tips is False


async def test_a_spanish_speaker_gets_tips_in_spanish_and_a_paused_one_gets_them_later(
    bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = bot.user(CHAT, "en")
    await english_sign_up(user)
    await user.send("/language es")
    await user.send("/tips")
    assert user.text.startswith("Los consejos semanales están desactivados.")
    assert user.labels == ["Sí, envíame consejos"]
    await user.tap("cmd:tips:on")
    assert "El primero llegará el 1 de diciembre de 2026." in user.text
    await user.send("/pause")
    patient = await patient_of(sessions, str(CHAT))
    assert await _tips(sessions, patient.id) == [(MessageStatus.CANCELLED, FIRST_TIP)]
    assert patient.weekly_tips is True  # the patient's choice survives the pause
    await user.send("/tips on")
    assert "mientras tus recordatorios estén activos" in user.text
    assert await _tips(sessions, patient.id) == [(MessageStatus.CANCELLED, FIRST_TIP)]
    await user.send("/resume")  # the replan brings the week's one row back
    assert await _tips(sessions, patient.id) == [(MessageStatus.PENDING, FIRST_TIP)]


async def test_a_time_zone_change_moves_the_tip_and_erasing_removes_it(
    bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = bot.user(CHAT, "en")
    await english_sign_up(user)
    await user.send("/tips on")
    patient = await patient_of(sessions, str(CHAT))
    await user.send("/timezone")
    await user.send("New York")
    await user.tap("yes")
    assert "Time zone updated: New York" in user.text
    new_york = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)  # Tuesday 11:00 in New York
    assert await _tips(sessions, patient.id) == [(MessageStatus.PENDING, new_york)]
    await user.send("/delete")
    await user.tap("yes")
    assert await _tips(sessions, patient.id) == []
