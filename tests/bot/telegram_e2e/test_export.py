"""/export in Telegram: the patient gets their data as a JSON document (sendDocument), in their language."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import AuditLog
from tests.bot.dialog.helpers import patient_of
from tests.bot.telegram_e2e.harness import Bot, english_sign_up

CHAT = 7301
OTHER = 7302


async def test_export_sends_the_patients_own_data_as_a_json_document(
    bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    other = bot.user(OTHER, "en", first_name="Bruno")
    await english_sign_up(other)  # a second patient, named Ana too, in another chat
    user = bot.user(CHAT, "en")
    await english_sign_up(user)

    await user.send("/export")

    assert [reply["method"] for reply in user.last] == ["sendDocument"]
    sent = user.last[0]
    assert sent["caption"].startswith("Here is a copy of everything we store about you")
    assert sent["document"]["filename"].startswith("my-ocrebot-data-")
    assert sent["document"]["filename"].endswith(".json")
    document = json.loads(sent["document"]["content"])
    patient = await patient_of(sessions, str(CHAT))
    assert document["patient"]["id"] == patient.id and document["patient"]["display_name"] == "Ana"
    assert [row["address"] for row in document["channel_address"]] == [str(CHAT)]
    assert [row["location"] for row in document["dose"] if row["status"] == "planned"] == ["Hospital La Paz"]
    assert document["consent"]["version"] and document["consent"]["consented_at"]
    assert str(OTHER) not in sent["document"]["content"].decode()
    assert ("in", "Hospital La Paz") in [(r["direction"], r["text"]) for r in document["message_log"]]
    async with sessions() as session:
        audit = list(await session.scalars(select(AuditLog).where(AuditLog.action == "patient.export")))
    assert [(row.patient_id, row.detail) for row in audit] == [(patient.id, {"channel": "telegram"})]


async def test_export_answers_in_spanish(bot: Bot) -> None:
    user = bot.user(CHAT, "es")
    await user.send("/start")
    await user.tap("yes")
    await user.send("/export")
    [sent] = user.last
    assert sent["method"] == "sendDocument"
    assert sent["caption"].startswith("Aquí tienes una copia de todo lo que guardamos sobre ti")
