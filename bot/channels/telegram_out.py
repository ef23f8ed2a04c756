"""The Telegram sender: one message out through python-telegram-bot, paced, its errors turned into values.

Owns the outbound pacing (PTB's `AIORateLimiter` has no per-private-chat limit, library notes §2): about
30 messages a second overall and about one a second per chat (Telegram Bots FAQ; `telegram.constants.
FloodLimit`), and the error mapping: `RetryAfter` -> retry later, `Forbidden` -> blocked, `BadRequest` ->
permanent, network errors, time-outs and 5xx -> transient. Options become inline keyboard buttons whose
callback data is the option key (tagged with the message id by the dispatcher, at most 64 bytes).
Must not import `storage`, `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from datetime import timedelta

# PTB 22 warns when `RetryAfter.retry_after` is read as int; its documented opt-in returns a timedelta.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup  # noqa: E402
from telegram.constants import FloodLimit, InlineKeyboardButtonLimit  # noqa: E402
from telegram.error import (  # noqa: E402
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest  # noqa: E402

from bot.channels.base import Option, SendResult  # noqa: E402

CALLBACK_DATA_MAX_BYTES = InlineKeyboardButtonLimit.MAX_CALLBACK_DATA  # 64
_PRUNE_AT = 4096  # per-chat pacers kept before idle ones are dropped


def create_bot(
    token: str, base_url: str, *, connection_pool_size: int = 32, read_timeout_s: float = 10.0
) -> Bot:
    """Returns an uninitialized `Bot` for `base_url` (PTB appends the token); the caller initializes it.

    connection_pool_size: concurrent requests allowed (PTB's default of 1 would queue concurrent sends).
    """
    request = HTTPXRequest(
        connection_pool_size=connection_pool_size, read_timeout=read_timeout_s, pool_timeout=read_timeout_s
    )
    return Bot(token, base_url=base_url, request=request)


class Pacer:
    """A token bucket: `rate_per_s` on average, bursts of up to `burst`; waiters are served in turn."""

    def __init__(self, rate_per_s: float, burst: float = 1.0) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError(f"rate_per_s must be > 0 and burst >= 1, got {rate_per_s} and {burst}")
        self._rate, self._burst = rate_per_s, burst
        self._tokens = burst
        self._stamp = time.monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Waits until one message may go, and counts it."""
        async with self._lock:
            while (wait_s := self._wait_s(time.monotonic())) > 0:  # noqa: ASYNC110 - a timed wait, no event
                await asyncio.sleep(wait_s)
            self._tokens -= 1

    @property
    def idle(self) -> bool:
        """Tells whether nobody waits and the bucket is full, so forgetting it changes nothing."""
        self._wait_s(time.monotonic())  # refills
        return not self._lock.locked() and self._tokens >= self._burst

    def _wait_s(self, now: float) -> float:
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        return 0.0 if self._tokens >= 1 else (1 - self._tokens) / self._rate


class TelegramSender:
    """Sends to Telegram chats through a PTB `Bot`; the caller owns the bot's initialize and shutdown.

    bot: a `telegram.Bot` (or the Application's `ExtBot`) pointed at the Bot API or a fake.
    overall_per_s: messages a second across all chats; chat_per_s, chat_burst: per chat.
    """

    def __init__(
        self,
        bot: Bot,
        *,
        overall_per_s: float = FloodLimit.MESSAGES_PER_SECOND,
        chat_per_s: float = FloodLimit.MESSAGES_PER_SECOND_PER_CHAT,
        chat_burst: float = 1.0,
    ) -> None:
        self._bot = bot
        self._overall = Pacer(overall_per_s, burst=overall_per_s)
        self._chat_rate = (chat_per_s, chat_burst)
        self._chats: dict[int, Pacer] = {}

    async def send(self, address: str, text: str, options: Sequence[Option]) -> SendResult:
        """Sends `text` to chat `address` with `options` as one button per row."""
        try:
            chat_id = int(address)
        except ValueError:
            return SendResult.rejected("address is not a Telegram chat id")
        too_long = [o for o in options if len(o.key.encode()) > CALLBACK_DATA_MAX_BYTES]
        if too_long:
            return SendResult.rejected(
                f"option key over {CALLBACK_DATA_MAX_BYTES} bytes: {too_long[0].key[:16]}"
            )
        markup = (
            InlineKeyboardMarkup([[InlineKeyboardButton(o.label, callback_data=o.key)] for o in options])
            if options
            else None
        )
        await self._pacer(chat_id).acquire()  # the chat first: a slow chat must not hold an overall slot
        await self._overall.acquire()
        try:
            message = await self._bot.send_message(chat_id=chat_id, text=text, reply_markup=markup)
        except RetryAfter as exc:  # the row waits in the outbox, not here holding a send slot
            return SendResult.rate_limited(_seconds(exc.retry_after), f"telegram: {exc.message}")
        except Forbidden as exc:
            return SendResult.blocked_by_recipient(f"telegram: {exc.message}")
        except (
            BadRequest,
            ChatMigrated,
        ) as exc:  # "chat not found", bad markup, text too long, a group moved
            return SendResult.rejected(f"telegram: {exc.message}")
        except InvalidToken as exc:  # our configuration, not this message: retry once it is fixed
            return SendResult.transient(f"telegram: {exc.message}")
        except TelegramError as exc:  # NetworkError (5xx, connection), TimedOut, Conflict
            return SendResult.transient(f"telegram: {type(exc).__name__}: {exc.message}")
        return SendResult.sent(f"{chat_id}:{message.message_id}")

    def _pacer(self, chat_id: int) -> Pacer:
        pacer = self._chats.get(chat_id)
        if pacer is None:
            if len(self._chats) >= _PRUNE_AT:
                self._chats = {key: value for key, value in self._chats.items() if not value.idle}
            pacer = self._chats[chat_id] = Pacer(*self._chat_rate)
        return pacer


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
