"""Webhook mode through the real app: Telegram POSTs updates to /webhooks/telegram with its secret header.

The whole composition root runs (`create_app` and its lifespan) against the fake Bot API: the channel sets
its webhook with the secret at start, a right secret gets the update handled and answered, a wrong or
missing one gets 403 and nothing is handled.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from care.clock import FakeClock
from ocrebot.app import create_app
from ocrebot.settings import Settings, load_settings
from storage.models import Patient
from tests.bot.dialog.helpers import START
from tests.fakes.telegram_api import FakeTelegram, private_message

WEBHOOK_URL = "https://ocrebot.example.org/webhooks/telegram"
SECRET = "s3cret_Token-42"
HEADER = "X-Telegram-Bot-Api-Secret-Token"
CHAT = 7401


@pytest.fixture
def settings(
    engine: AsyncEngine,
    database_url: str,
    fake: FakeTelegram,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Settings:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    return load_settings(
        env_file=None,
        database_url=database_url,
        telegram_bot_token=fake.token,
        telegram_api_base_url=fake.base_url,
        telegram_webhook_url=WEBHOOK_URL,
        telegram_webhook_secret=SECRET,
    )


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(settings, clock=FakeClock(START))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://ocrebot.example.org") as http:
            yield http


async def _wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition never became true"
        await asyncio.sleep(0.01)


def _update(update_id: int, text: str) -> dict[str, object]:
    return {"update_id": update_id, "message": private_message(CHAT, text)}


def _sent_to(fake: FakeTelegram, chat_id: int) -> list[str]:
    return [str(message.get("text", "")) for message in fake.sent if int(message["chat_id"]) == chat_id]


async def _patients(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Patient)) or 0)


async def test_the_webhook_is_set_with_the_secret_and_polling_never_starts(
    client: httpx.AsyncClient, fake: FakeTelegram
) -> None:
    webhooks = [call.params for call in fake.calls if call.method == "setWebhook"]
    assert len(webhooks) == 1
    assert webhooks[0]["url"] == WEBHOOK_URL and webhooks[0]["secret_token"] == SECRET
    assert not any(call.method == "getUpdates" for call in fake.calls)


async def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_handled(
    client: httpx.AsyncClient, fake: FakeTelegram, sessions: async_sessionmaker[AsyncSession]
) -> None:
    for headers in ({HEADER: "wrong-secret"}, {HEADER: SECRET + "x"}, {HEADER: ""}, {}):
        response = await client.post("/webhooks/telegram", json=_update(1, "hello"), headers=headers)
        assert response.status_code == 403, headers
    await asyncio.sleep(0.3)  # had anything been queued, the channel would have answered by now
    assert _sent_to(fake, CHAT) == []
    assert await _patients(sessions) == 0


async def test_an_update_with_the_right_secret_is_handled_and_answered(
    client: httpx.AsyncClient, fake: FakeTelegram, sessions: async_sessionmaker[AsyncSession]
) -> None:
    response = await client.post("/webhooks/telegram", json=_update(1, "hola"), headers={HEADER: SECRET})
    assert response.status_code == 200
    await _wait_for(lambda: bool(_sent_to(fake, CHAT)))
    assert "Do you agree?" in _sent_to(fake, CHAT)[0]
    assert await _patients(sessions) == 1
    tap = {
        "update_id": 2,
        "callback_query": {
            "id": "q1",
            "from": {"id": CHAT, "is_bot": False, "first_name": "Ana", "language_code": "en"},
            "chat_instance": "1",
            "data": "yes",
            "message": {"message_id": 1, "date": 1, "chat": {"id": CHAT, "type": "private"}},
        },
    }
    response = await client.post("/webhooks/telegram", json=tap, headers={HEADER: SECRET})
    assert response.status_code == 200
    await _wait_for(lambda: len(_sent_to(fake, CHAT)) == 2)
    assert "What name" in _sent_to(fake, CHAT)[1]


async def test_a_body_that_is_not_an_update_is_refused(client: httpx.AsyncClient, fake: FakeTelegram) -> None:
    bad = await client.post(
        "/webhooks/telegram",
        content=b"not json",
        headers={HEADER: SECRET, "content-type": "application/json"},
    )
    assert bad.status_code == 400
    assert (await client.post("/webhooks/telegram", json=[1, 2], headers={HEADER: SECRET})).status_code == 400
