"""A small app for the Twilio webhook tests: our router, the real dialog engine, and a signed-post client.

`SmsPhone` plays one phone texting the app as Twilio would (signed with the fake's auth token).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from xml.etree import ElementTree

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dialog import DialogEngine
from care.clock import FakeClock
from care.plan import ReminderPlan
from ocrebot import twilio_webhooks
from ocrebot.settings import Settings, load_settings
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio

PUBLIC = "https://bot.example.org"
START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def sms_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "twilio_from_number": FROM_NUMBER,
        "public_base_url": PUBLIC,
        "default_timezone": "UTC",
        "default_language": "en",
    }
    return load_settings(env_file=None, **{**values, **overrides})


def build_app(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan, clock: FakeClock, settings: Settings
) -> FastAPI:
    app = FastAPI()
    app.include_router(twilio_webhooks.router)
    dialog = DialogEngine(sessions, plan, clock, default_timezone="UTC", default_language="en")
    app.state.services = SimpleNamespace(
        settings=settings, sessions=sessions, clock=clock, dialog=dialog, plan=plan
    )
    return app


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC)


async def post_signed(
    http: httpx.AsyncClient,
    twilio: FakeTwilio,
    path: str,
    params: dict[str, str],
    *,
    signature: str | None = None,
    signed_url: str | None = None,
    signed_params: dict[str, str] | None = None,
) -> httpx.Response:
    """Posts `params` as Twilio does, signed over (signed_url, signed_params): by default the real ones."""
    if signature is None:
        signature = twilio.sign(
            signed_url or PUBLIC + path, signed_params if signed_params is not None else params
        )
    headers = {"X-Twilio-Signature": signature} if signature else {}
    return await http.post(path, data=params, headers=headers)


def messages_of(response: httpx.Response) -> list[str]:
    """The texts of a TwiML reply's <Message> elements."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    root = ElementTree.fromstring(response.text)
    assert root.tag == "Response"
    return [element.text or "" for element in root.iter("Message")]


@dataclass
class SmsPhone:
    """One phone texting the app."""

    http: httpx.AsyncClient
    twilio: FakeTwilio
    number: str = "+34600123456"
    last: list[str] = field(default_factory=list)

    async def text(self, body: str, **extra: str) -> list[str]:
        params = self.twilio.inbound_params(self.number, body, **extra)
        self.last = messages_of(await post_signed(self.http, self.twilio, "/webhooks/twilio/sms", params))
        return self.last

    @property
    def said(self) -> str:
        return "\n".join(self.last)
