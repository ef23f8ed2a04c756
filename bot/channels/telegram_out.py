"""The Telegram sender: one message out through python-telegram-bot, paced, its errors turned into values.

Owns the outbound pacing (PTB's `AIORateLimiter` has no per-private-chat limit, library notes §2): about
30 messages a second overall and about one a second per chat (Telegram Bots FAQ; `telegram.constants.
FloodLimit`). The overall budget is the bot's, not the outbox's: the Application's replies take from the same
`Pacer` through `RepliesFirst`, ahead of the outbox, so a burst never makes a patient wait for an answer and
the two together stay under the limit (measured by `python -m bench burst`). The error mapping:
`RetryAfter` -> retry later, `Forbidden` -> blocked, `BadRequest` -> permanent, network errors, time-outs
and 5xx -> transient. Options become inline keyboard buttons whose callback data is the option key
(tagged with the message id by the dispatcher, at most 64 bytes).
Must not import `storage`, `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Coroutine, Sequence
from datetime import timedelta
from typing import Any

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
from telegram.ext import BaseRateLimiter  # noqa: E402
from telegram.request import HTTPXRequest  # noqa: E402

from bot.channels.base import Option, SendResult  # noqa: E402

CALLBACK_DATA_MAX_BYTES = InlineKeyboardButtonLimit.MAX_CALLBACK_DATA  # 64
# A third of a second of the overall limit: our bucket must be smaller than Telegram's (30 messages), or
# the latency jitter between our clock and theirs turns a full-speed burst into 429s (bench burst).
OVERALL_BURST = 10.0
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
    """A token bucket: `rate_per_s` on average, bursts of up to `burst`; waiters are served in turn, except
    that `acquire(first=True)` goes ahead of every waiter that did not ask to go first."""

    def __init__(self, rate_per_s: float, burst: float = 1.0) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError(f"rate_per_s must be > 0 and burst >= 1, got {rate_per_s} and {burst}")
        self._rate, self._burst = rate_per_s, burst
        self._tokens = burst
        self._stamp = time.monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self, *, first: bool = False) -> None:
        """Waits until one message may go, and counts it; `first` jumps the queue (a patient waits)."""
        if first:
            wait_s = self._wait_s(time.monotonic())
            self._tokens -= 1  # taken, or the next slot reserved: the queue's head sees it and waits longer
            if wait_s > 0:
                await asyncio.sleep(wait_s)
            return
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
    overall_per_s, overall_burst: messages a second across all chats, and the burst allowed; the bot's
    whole budget, shared with the replies through `replies_first()`. chat_per_s, chat_burst: per chat.
    """

    def __init__(
        self,
        bot: Bot,
        *,
        overall_per_s: float = FloodLimit.MESSAGES_PER_SECOND,
        overall_burst: float = OVERALL_BURST,
        chat_per_s: float = FloodLimit.MESSAGES_PER_SECOND_PER_CHAT,
        chat_burst: float = 1.0,
    ) -> None:
        self._bot = bot
        self._overall = Pacer(overall_per_s, burst=min(overall_burst, max(overall_per_s, 1.0)))
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

    def replies_first(self, *, max_retries: int = 2) -> RepliesFirst:
        """Returns a PTB rate limiter for the Application that answers patients, on this sender's budget."""
        return RepliesFirst(self._overall, max_retries=max_retries)

    def _pacer(self, chat_id: int) -> Pacer:
        pacer = self._chats.get(chat_id)
        if pacer is None:
            if len(self._chats) >= _PRUNE_AT:
                self._chats = {key: value for key, value in self._chats.items() if not value.idle}
            pacer = self._chats[chat_id] = Pacer(*self._chat_rate)
        return pacer


class RepliesFirst(BaseRateLimiter[None]):
    """The Application's rate limiter (`ApplicationBuilder().rate_limiter(...)`): every call that sends to a
    chat takes a slot from the outbox sender's overall `Pacer`, ahead of the outbox's waiting sends.

    Replies answer a patient who is waiting, so they go first, and the bot's total stays under Telegram's
    limit. Like PTB's `AIORateLimiter`, a `RetryAfter` is waited out and the call retried, up to
    `max_retries` times, then raised.
    """

    def __init__(self, pacer: Pacer, *, max_retries: int = 2) -> None:
        self._pacer = pacer
        self._max_retries = max_retries

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def process_request(
        self,
        callback: Any,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Waits for a slot when the call sends to a chat, then makes it; waits out a RetryAfter."""
        for attempt in range(self._max_retries + 1):
            if data.get("chat_id") is not None:  # what Telegram counts; getUpdates never comes here
                await self._pacer.acquire(first=True)
            try:
                call: Coroutine[Any, Any, Any] = callback(*args, **kwargs)
                return await call  # type: ignore[no-any-return]
            except RetryAfter as exc:
                if attempt == self._max_retries:
                    raise
                await asyncio.sleep(_seconds(exc.retry_after) + 0.1)
        raise AssertionError("unreachable")


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
