"""The ops alert channel against the fake Bot API: one message per alert to the ops chat; errors raise."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from telegram import Bot

from bot.alerts import Alert, LoggingAlerter
from bot.channels.ops_telegram import AlertNotSent, OpsTelegramAlerter, build_alerter
from bot.channels.telegram_out import create_bot
from tests.fakes.telegram_api import FakeTelegram

OPS_CHAT = -100123
ALERT = Alert(
    check_in_id=7, patient_id=42, display_name="Ana", level="emergency", answer="my tongue is swollen",
    at=datetime(2027, 3, 12, 18, 20, tzinfo=UTC),
)  # fmt: skip


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


async def test_an_alert_goes_to_the_ops_chat_with_the_patient_the_level_and_the_answer(
    telegram: FakeTelegram, bot: Bot
) -> None:
    await OpsTelegramAlerter(bot, str(OPS_CHAT)).alert(ALERT)

    [sent] = telegram.sent
    assert sent["chat_id"] == OPS_CHAT
    text = sent["text"]
    assert text.splitlines()[0].startswith("🚨 EMERGENCY")
    assert "Patient #42: Ana" in text and "Answer: my tongue is swollen" in text
    assert "At: 2027-03-12 18:20 UTC" in text and "Check-in #7" in text
    assert "reply_markup" not in sent


async def test_a_silence_says_no_answer(telegram: FakeTelegram, bot: Bot) -> None:
    silence = Alert(7, 42, None, "clinic_today", None, ALERT.at, reason="dose_unconfirmed")
    await OpsTelegramAlerter(bot, "@ops_channel").alert(silence)
    [sent] = telegram.sent
    assert sent["chat_id"] == "@ops_channel"
    assert "Answer: (no answer)" in sent["text"] and "Dose not confirmed" in sent["text"]
    assert "Patient #42\n" in sent["text"]


@pytest.mark.parametrize(("status", "description"), [
    (500, "Internal Server Error"),
    (403, "Forbidden: bot was kicked from the group chat"),
    (429, "Too Many Requests: retry after 3"),
])  # fmt: skip
async def test_telegram_refusing_raises_alert_not_sent_naming_only_the_error_type(
    telegram: FakeTelegram, bot: Bot, status: int, description: str
) -> None:
    telegram.fail_next("sendMessage", status, description, **({"retry_after": 3} if status == 429 else {}))
    with pytest.raises(AlertNotSent) as caught:
        await OpsTelegramAlerter(bot, str(OPS_CHAT)).alert(ALERT)
    assert "Ana" not in str(caught.value) and "tongue" not in str(caught.value)


async def test_without_a_chat_or_a_bot_alerts_are_only_logged_with_ids_and_level(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    assert isinstance(build_alerter(bot, None), LoggingAlerter)
    assert isinstance(build_alerter(None, "-100123"), LoggingAlerter)
    assert isinstance(build_alerter(bot, "-100123"), OpsTelegramAlerter)
    with caplog.at_level(logging.INFO):
        await LoggingAlerter().alert(ALERT)
    assert "check-in 7" in caplog.text and "patient 42" in caplog.text and "emergency" in caplog.text
    assert "Ana" not in caplog.text and "tongue" not in caplog.text
