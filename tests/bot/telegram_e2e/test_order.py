"""Updates of one chat arriving together (one getUpdates batch) are answered in the order they were sent."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.bot.dialog.helpers import patient_of, snapshot
from tests.bot.telegram_e2e.harness import Bot


async def test_a_tap_then_a_typed_answer_sent_together_are_taken_in_that_order(
    bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = bot.user(7701)
    await user.send("hi")
    before = len(bot.sent_to(7701))
    tap = bot.fake.push_callback(7701, "yes")  # consent...
    typed = bot.fake.push_text(7701, "Ana")  # ...and the name, typed right after
    await asyncio.gather(bot.handled(tap), bot.handled(typed))
    assert (await patient_of(sessions, "7701")).display_name == "Ana"
    assert (await snapshot(sessions, "7701")).step == "timezone"
    texts = [reply["text"] for reply in bot.sent_to(7701)[before:]]
    assert "What name" in texts[0] and "Nice to meet you, Ana!" in texts[1], texts


async def test_replies_to_quick_messages_reach_the_chat_in_order(bot: Bot) -> None:
    user = bot.user(7702)
    await user.send("hi")
    await user.tap("yes")
    before = len(bot.sent_to(7702))
    bot.fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    first = bot.fake.push_text(7702, "Ana")  # its reply is held back a second by the 429
    second = bot.fake.push_text(7702, "Madrid")
    await asyncio.gather(bot.handled(first), bot.handled(second))
    texts = [reply["text"] for reply in bot.sent_to(7702)[before:]]
    assert "Nice to meet you, Ana!" in texts[0] and "In Madrid it's" in texts[1], texts
