"""The composition root wires the real parts: Telegram in and out, dialog, dispatcher, renderer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from care.clock import FakeClock
from ocrebot.services import Services, StartupError, start_services
from ocrebot.settings import load_settings
from storage.models import AddressState, ChannelAddress, MessageStatus, ScheduledMessage
from tests.bot.dialog.helpers import START, Chat, sign_up
from tests.fakes.telegram_api import FakeTelegram

CHAT_ID = 555


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def services(
    engine: AsyncEngine, database_url: str, fake: FakeTelegram, clean_env: Path
) -> AsyncIterator[Services]:
    settings = load_settings(
        env_file=None,
        database_url=database_url,
        telegram_bot_token=fake.token,
        telegram_api_base_url=fake.base_url,
    )
    started = await start_services(settings, clock=FakeClock(START))
    yield started
    await started.aclose()


async def _wait_for(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition never became true"
        await asyncio.sleep(0.01)


def _sent_to(fake: FakeTelegram, chat_id: int) -> list[str]:
    return [message.get("text", "") for message in fake.sent if int(message["chat_id"]) == chat_id]


async def test_a_telegram_message_reaches_the_dialog_and_its_answer_comes_back(
    services: Services, fake: FakeTelegram
) -> None:
    assert services.telegram is not None
    fake.push_text(CHAT_ID, "hello", language_code="es")
    await _wait_for(lambda: bool(_sent_to(fake, CHAT_ID)))
    consent = next(call.params for call in fake.calls if call.method == "sendMessage")
    buttons = [row[0]["text"] for row in consent["reply_markup"]["inline_keyboard"]]
    assert buttons[:2] == ["Sí, acepto", "No, gracias"]  # Spanish, from Telegram's language_code
    registered = [call.params for call in fake.calls if call.method == "setMyCommands"]
    assert {params.get("language_code") for params in registered} == {None, "es"}


async def test_a_due_reminder_goes_out_through_the_real_dispatcher_rendered_for_the_patient(
    services: Services, fake: FakeTelegram
) -> None:
    chat = Chat(services.dialog, address=str(CHAT_ID))
    await sign_up(chat, place="Hospital La Paz")
    async with services.sessions() as session:
        first = await session.scalar(
            select(ScheduledMessage)
            .where(ScheduledMessage.status == MessageStatus.PENDING)
            .order_by(ScheduledMessage.due_at)
            .limit(1)
        )
    assert first is not None and first.touchpoint_id == "reminder_7_days"
    sent_before = len(fake.sent)

    clock = services.clock
    assert isinstance(clock, FakeClock)
    clock.set(first.due_at + timedelta(seconds=1))
    report = await services.dispatcher.run_once(clock.now())

    assert (report.claimed, report.sent) == (1, 1)
    [reminder] = [message["text"] for message in fake.sent[sent_before:]]
    assert "Hospital La Paz" in reminder
    assert "12" in reminder  # the appointment's day, 12 March
    async with services.sessions() as session:
        stored = await session.get(ScheduledMessage, first.id)
        assert stored is not None and stored.status == MessageStatus.SENT and stored.channel == "telegram"


async def test_a_patient_who_blocks_the_bot_has_the_address_marked_blocked(
    services: Services, fake: FakeTelegram
) -> None:
    await sign_up(Chat(services.dialog, address=str(CHAT_ID)))
    fake.push_update(
        {
            "my_chat_member": {
                "chat": {"id": CHAT_ID, "type": "private", "first_name": "A"},
                "from": {"id": CHAT_ID, "is_bot": False, "first_name": "A"},
                "date": 1_700_000_000,
                "old_chat_member": {"status": "member", "user": {"id": 1, "is_bot": True, "first_name": "b"}},
                "new_chat_member": {
                    "status": "kicked",
                    "until_date": 0,
                    "user": {"id": 1, "is_bot": True, "first_name": "b"},
                },
            }
        }
    )

    async def state() -> AddressState:
        async with services.sessions() as session:
            address = await session.scalar(
                select(ChannelAddress).where(ChannelAddress.address == str(CHAT_ID))
            )
            assert address is not None
            return address.state

    deadline = asyncio.get_running_loop().time() + 5
    while await state() is not AddressState.BLOCKED:
        assert asyncio.get_running_loop().time() < deadline, "the address was never marked blocked"
        await asyncio.sleep(0.02)


async def test_a_token_telegram_refuses_stops_start_up_with_one_line(
    engine: AsyncEngine, database_url: str, fake: FakeTelegram, clean_env: Path
) -> None:
    settings = load_settings(
        env_file=None,
        database_url=database_url,
        telegram_bot_token="999:not-the-fakes-token",
        telegram_api_base_url=fake.base_url,
    )
    with pytest.raises(StartupError, match="^TELEGRAM_BOT_TOKEN: Telegram does not accept this token$"):
        await start_services(settings, clock=FakeClock(START))


async def test_a_check_in_answer_needing_help_gets_emergency_guidance_and_alerts_the_ops_chat(
    engine: AsyncEngine, database_url: str, fake: FakeTelegram, clean_env: Path
) -> None:
    settings = load_settings(
        env_file=None,
        database_url=database_url,
        telegram_bot_token=fake.token,
        telegram_api_base_url=fake.base_url,
        ops_telegram_chat_id="-100200300",
    )
    clock = FakeClock(START)
    services = await start_services(settings, clock=clock)
    try:
        await sign_up(Chat(services.dialog, address=str(CHAT_ID)), name="Ana")
        async with services.sessions() as session:
            check_in = await session.scalar(
                select(ScheduledMessage).where(ScheduledMessage.touchpoint_id == "check_in_evening")
            )
        assert check_in is not None
        clock.set(check_in.due_at + timedelta(seconds=1))
        assert (await services.dispatcher.run_once(clock.now())).sent >= 1  # type: ignore[union-attr]
        sent = next(m for m in fake.sent if m.get("text") and "help" in str(m.get("reply_markup")))
        keys = [row[0]["callback_data"] for row in sent["reply_markup"]["inline_keyboard"]]
        assert keys == [f"{check_in.id}:fine", f"{check_in.id}:mild", f"{check_in.id}:help_now"]
        before = len(fake.sent)

        fake.push_callback(CHAT_ID, f"{check_in.id}:help_now")
        await _wait_for(lambda: any(int(m["chat_id"]) == -100200300 for m in fake.sent[before:]))
        await _wait_for(lambda: any(int(m["chat_id"]) == CHAT_ID for m in fake.sent[before:]))
    finally:
        await services.aclose()
    to_patient = [m["text"] for m in fake.sent[before:] if int(m["chat_id"]) == CHAT_ID]
    assert "112" in to_patient[0]  # Madrid: the emergency number comes first
    alert = next(m["text"] for m in fake.sent[before:] if int(m["chat_id"]) == -100200300)
    assert "Ana" in alert
