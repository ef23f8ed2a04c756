"""The fake Bot API answers the real python-telegram-bot client as Telegram does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, Update
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

from tests.fakes.telegram_api import BOT_USERNAME, FakeTelegram


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


async def test_a_polling_application_gets_updates_and_replies(fake: FakeTelegram) -> None:
    answered = asyncio.Event()

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"hello {' '.join(context.args or [])}")
        answered.set()

    app = ApplicationBuilder().token(fake.token).base_url(fake.base_url).build()
    app.add_handler(CommandHandler("start", start))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=1)
        fake.push_text(42, "/start invite-code")
        await asyncio.wait_for(answered.wait(), 5)
        await app.updater.stop()
        await app.stop()
    assert app.bot.username == BOT_USERNAME
    methods = [call.method for call in fake.calls]
    assert methods[:3] == ["getMe", "deleteWebhook", "getUpdates"]
    assert fake.sent == [{"chat_id": 42, "text": "hello invite-code"}]


async def test_errors_come_back_as_the_library_expects(fake: FakeTelegram) -> None:
    bot = Bot(fake.token, base_url=fake.base_url)
    async with bot:
        fake.blocked_chats.add(7)
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(7, "hi")
        fake.unknown_chats.add(8)
        with pytest.raises(BadRequest, match="(?i)chat not found"):
            await bot.send_message(8, "hi")
        fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 5", retry_after=5)
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(9, "hi")
        assert caught.value.retry_after.total_seconds() == 5
        fake.fail_next("sendMessage", 502, "Bad Gateway")
        with pytest.raises(NetworkError):
            await bot.send_message(9, "hi")
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=fake.base_url):
            pass


async def test_more_than_a_burst_to_one_chat_is_answered_429(fake: FakeTelegram) -> None:
    bot = Bot(fake.token, base_url=fake.base_url)
    async with bot:
        for _ in range(3):
            await bot.send_message(5, "ok")
        with pytest.raises(RetryAfter):
            await bot.send_message(5, "too fast")
    assert fake.rate_limited == 1
