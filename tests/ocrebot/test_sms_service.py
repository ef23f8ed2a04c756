"""The composed service over SMS: Twilio webhooks reach the dialog; reminders go out by the real client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from care.clock import FakeClock
from ocrebot.app import create_app
from storage.models import Channel, Direction, MessageLog, MessageStatus, ScheduledMessage
from tests.bot.dialog.helpers import START
from tests.fakes.twilio_api import FakeTwilio
from tests.ocrebot.test_app import serving
from tests.ocrebot.twilio_app import PUBLIC, SmsPhone, post_signed, sms_settings


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    server = FakeTwilio()
    await server.start()
    yield server
    await server.stop()


async def test_an_sms_patient_joins_gets_a_reminder_and_a_forged_post_changes_nothing(
    engine: AsyncEngine, database_url: str, twilio: FakeTwilio, clean_env: Path
) -> None:
    settings = sms_settings(database_url=database_url, twilio_api_base_url=twilio.base_url)
    clock = FakeClock(START)
    app = create_app(settings, clock=clock)
    async with serving(app):
        services = app.state.services
        assert Channel.SMS in services.senders
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC) as http:
            phone = SmsPhone(http, twilio)
            for body in (
                "JOIN",
                "YES",
                "Ana",
                "Madrid",
                "yes",
                "1",
                "3",
                "3 June",
                "12 March 9:30",
                "La Paz",
            ):
                await phone.text(body)
            await phone.text("1")
            assert "all set" in phone.said, phone.said

            forged = await post_signed(
                http,
                twilio,
                "/webhooks/twilio/sms",
                twilio.inbound_params(phone.number, "STOP"),
                signature="x",
            )
            assert forged.status_code == 403

        async with services.sessions() as session:
            first = await session.scalar(
                select(ScheduledMessage)
                .where(ScheduledMessage.status == MessageStatus.PENDING)
                .order_by(ScheduledMessage.due_at)
                .limit(1)
            )
        assert first is not None
        clock.set(first.due_at + timedelta(seconds=1))
        report = await services.dispatcher.run_once(clock.now())
        async with services.sessions() as session:
            logged = list(await session.scalars(select(MessageLog).where(MessageLog.channel == Channel.SMS)))

    assert (report.claimed, report.sent) == (1, 1)
    [reminder] = twilio.sent
    assert reminder["to"] == phone.number and "La Paz" in reminder["body"]
    assert reminder["status_callback"] == PUBLIC + "/webhooks/twilio/status"
    inbound = [row.text for row in logged if row.direction is Direction.INBOUND]
    assert inbound[:2] == ["YES", "Ana"]  # logged from the consent on; JOIN came before it
    assert "STOP" not in inbound  # the forged STOP never arrived
