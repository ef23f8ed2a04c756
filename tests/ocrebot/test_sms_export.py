"""EXPORT by SMS: a text cannot carry a file, so the answer says kindly that the clinic can provide it.

Through the composed app: signed Twilio webhooks reach the dialog, as in test_sms_service.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from care.clock import FakeClock
from care.sms_segments import segments
from ocrebot.app import create_app
from storage.models import AuditLog
from tests.bot.dialog.helpers import START
from tests.fakes.twilio_api import FakeTwilio
from tests.ocrebot.test_app import serving
from tests.ocrebot.twilio_app import PUBLIC, SmsPhone, sms_settings

SIGN_UP = ("JOIN", "YES", "Ana", "Madrid", "yes", "1", "3", "3 June", "12 March 9:30", "La Paz", "1")


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    server = FakeTwilio()
    await server.start()
    yield server
    await server.stop()


async def test_export_by_sms_points_to_the_clinic_in_the_patients_language(
    engine: AsyncEngine, database_url: str, twilio: FakeTwilio, clean_env: Path
) -> None:
    settings = sms_settings(database_url=database_url, twilio_api_base_url=twilio.base_url)
    app = create_app(settings, clock=FakeClock(START))
    async with serving(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC) as http:
            phone = SmsPhone(http, twilio)
            for body in SIGN_UP:
                await phone.text(body)
            assert "all set" in phone.said, phone.said

            await phone.text("export")
            [answer] = phone.last
            assert answer.startswith("A text message can't carry a file.")
            assert "ask your clinic" in answer and segments(answer) <= 2

            await phone.text("ESPANOL")
            await phone.text("Exportar")
            [respuesta] = phone.last
            assert respuesta.startswith("Un SMS no puede llevar un archivo.")
            assert "pidesela a tu clinica" in respuesta and segments(respuesta) <= 2  # folded to GSM-7

        async with app.state.services.sessions() as session:
            audit = list(
                await session.scalars(select(AuditLog).where(AuditLog.action.like("patient.export%")))
            )
    assert [(row.action, row.detail) for row in audit] == [
        ("patient.export_requested", {"channel": "sms"})
    ] * 2
    assert twilio.sent == []  # no file, no extra message: the answers went back as TwiML
