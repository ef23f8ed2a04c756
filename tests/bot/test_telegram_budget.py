"""One Telegram budget for the bot: the Application's replies and the outbox share it, replies first.

Found by `python -m bench burst`: with separate limiters the outbox at 30/s plus the replies went over
Telegram's limit, so both got 429s and a /help reply waited seconds behind the burst.
"""

from __future__ import annotations

import asyncio
import time

from telegram.ext import ExtBot

from bot.channels.telegram_out import Pacer, TelegramSender, create_bot
from tests.fakes.telegram_api import FakeTelegram


async def test_a_first_acquire_goes_ahead_of_the_queued_ones() -> None:
    pacer = Pacer(rate_per_s=20, burst=1)
    order: list[str] = []

    async def take(name: str, *, first: bool = False) -> None:
        await pacer.acquire(first=first)
        order.append(name)

    queued = [asyncio.create_task(take(f"outbox-{n}")) for n in range(3)]
    await asyncio.sleep(0.01)  # outbox-0 took the token; outbox-1 and outbox-2 wait their turn
    await take("reply", first=True)
    await asyncio.gather(*queued)

    assert order == ["outbox-0", "reply", "outbox-1", "outbox-2"]


async def test_a_reserved_slot_still_keeps_the_rate() -> None:
    pacer = Pacer(rate_per_s=20, burst=1)
    started = time.monotonic()
    await asyncio.gather(*(pacer.acquire(first=n % 2 == 0) for n in range(6)))
    assert time.monotonic() - started >= 5 / 20 - 0.01  # one token at once, then one every 50 ms


async def test_replies_and_a_full_speed_outbox_stay_under_the_limit_and_replies_do_not_wait() -> None:
    fake = FakeTelegram(overall_per_s=20, overall_burst=20, chat_per_s=100, chat_burst=10)
    await fake.start()
    try:
        async with create_bot(fake.token, fake.base_url) as outbox_bot:
            sender = TelegramSender(outbox_bot, overall_per_s=20, chat_per_s=100, chat_burst=10)
            replies = ExtBot(fake.token, base_url=fake.base_url, rate_limiter=sender.replies_first())
            async with replies:
                outbox = [asyncio.create_task(sender.send(str(1000 + n), "reminder", [])) for n in range(50)]
                waits_s = []
                for n in range(5):
                    await asyncio.sleep(0.3)
                    started = time.monotonic()
                    await replies.send_message(chat_id=2000 + n, text="help")
                    waits_s.append(time.monotonic() - started)
                results = await asyncio.gather(*outbox)
    finally:
        await fake.stop()

    assert all(result.ok for result in results)
    assert fake.rate_limited == 0
    assert max(waits_s) < 0.5, waits_s  # not behind the 50 queued sends (2.5 s), nor a 429 (1 s and more)
