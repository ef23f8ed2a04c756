"""The Telegram sender against the fake Bot API: buttons, pacing, and every error as a value."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from bot.channels.base import Option, SendResult, tag_option, untag_option_key
from bot.channels.telegram_out import Pacer, TelegramSender, create_bot
from tests.fakes.telegram_api import FakeTelegram

CHAT = 4242
OPTIONS = [tag_option(812, Option("fine", "I feel fine")), tag_option(812, Option("unwell", "Not well"))]


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def bot(telegram: FakeTelegram) -> AsyncIterator[Bot]:
    async with create_bot(telegram.token, telegram.base_url) as bot:
        yield bot


@pytest.fixture
def sender(bot: Bot) -> TelegramSender:
    return TelegramSender(bot, chat_per_s=100, chat_burst=10)


async def test_a_message_goes_out_with_one_button_per_option_tagged_with_its_message(
    telegram: FakeTelegram, sender: TelegramSender
) -> None:
    result = await sender.send(str(CHAT), "How are you feeling?", OPTIONS)

    [sent] = telegram.sent
    assert (sent["chat_id"], sent["text"]) == (CHAT, "How are you feeling?")
    rows = sent["reply_markup"]["inline_keyboard"]
    assert [(b["text"], b["callback_data"]) for [b] in rows] == [
        ("I feel fine", "812:fine"),
        ("Not well", "812:unwell"),
    ]
    assert result.ok and result.provider_id is not None and result.provider_id.startswith(f"{CHAT}:")
    assert untag_option_key(rows[1][0]["callback_data"]) == (812, "unwell")


async def test_a_message_without_options_has_no_keyboard(
    telegram: FakeTelegram, sender: TelegramSender
) -> None:
    assert (await sender.send(str(CHAT), "Your appointment is tomorrow.", [])).ok
    assert "reply_markup" not in telegram.sent[0]


async def test_too_many_requests_becomes_a_retry_after(
    telegram: FakeTelegram, sender: TelegramSender
) -> None:
    telegram.fail_next("sendMessage", 429, "Too Many Requests: retry after 5", retry_after=5)
    result = await sender.send(str(CHAT), "hello", [])
    assert (result.ok, result.retry_after_s, result.permanent) == (False, 5.0, False)


async def test_a_blocked_bot_is_blocked_and_permanent(telegram: FakeTelegram, sender: TelegramSender) -> None:
    telegram.blocked_chats.add(CHAT)
    result = await sender.send(str(CHAT), "hello", [])
    assert (result.ok, result.blocked, result.permanent) == (False, True, True)
    assert result.error == "telegram: Forbidden: bot was blocked by the user"


async def test_an_unknown_chat_is_permanent_but_not_blocked(
    telegram: FakeTelegram, sender: TelegramSender
) -> None:
    telegram.unknown_chats.add(CHAT)
    result = await sender.send(str(CHAT), "hello", [])
    assert (result.ok, result.blocked, result.permanent) == (False, False, True)
    assert result.error is not None and "chat not found" in result.error.lower()


async def test_a_server_error_is_transient(telegram: FakeTelegram, sender: TelegramSender) -> None:
    telegram.fail_next("sendMessage", 500, "Internal Server Error")
    result = await sender.send(str(CHAT), "hello", [])
    assert result.transient_failure
    assert (await sender.send(str(CHAT), "hello", [])).ok


async def test_an_unreachable_bot_api_is_transient(telegram: FakeTelegram) -> None:
    async with create_bot(telegram.token, telegram.base_url) as bot:
        await telegram.stop()  # the Bot API goes away after start-up
        result = await TelegramSender(bot).send(str(CHAT), "hello", [])
    assert result.transient_failure
    assert result.error is not None and result.error.startswith("telegram: NetworkError")


async def test_a_bad_address_or_oversized_option_is_rejected_without_a_call(
    telegram: FakeTelegram, sender: TelegramSender
) -> None:
    assert (await sender.send("@someone", "hello", [])) == SendResult.rejected(
        "address is not a Telegram chat id"
    )
    oversized = tag_option(812, Option("x" * 70, "Too long"))
    result = await sender.send(str(CHAT), "hello", [oversized])
    assert result.permanent and result.error is not None and "64 bytes" in result.error
    assert telegram.sent == []


async def test_messages_to_one_chat_are_paced_and_never_rate_limited(
    telegram: FakeTelegram, bot: Bot
) -> None:
    sender = TelegramSender(bot, chat_per_s=10)
    for text in ("one", "two", "three"):
        assert (await sender.send(str(CHAT), text, [])).ok
    times = [call.at for call in telegram.calls if call.method == "sendMessage"]
    assert all(later - earlier >= 0.08 for earlier, later in zip(times, times[1:], strict=False))
    assert telegram.rate_limited == 0


async def test_a_pacer_lets_a_burst_through_then_spaces_messages() -> None:
    pacer = Pacer(rate_per_s=20, burst=2)
    started = time.monotonic()
    for _ in range(4):
        await pacer.acquire()
    assert 0.08 <= time.monotonic() - started < 1.0  # two free, then two at 50 ms each
    with pytest.raises(ValueError, match="rate_per_s"):
        Pacer(rate_per_s=0)


def test_untagging_refuses_keys_that_carry_no_message_id() -> None:
    assert untag_option_key("12:yes:really") == (12, "yes:really")
    assert untag_option_key("yes") is None
    assert untag_option_key("x1:yes") is None
    assert untag_option_key("12:") is None
