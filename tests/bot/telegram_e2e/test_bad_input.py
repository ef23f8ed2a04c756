"""Everything a Telegram user can send that is not an answer: a short helpful reply or silence, never a crash,
and the conversation exactly where it was (stored state before == after). Groups are declined politely."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.telegram_in import GROUP_DECLINE
from storage.models import ChannelAddress, Patient
from tests.bot.dialog.helpers import snapshot
from tests.bot.telegram_e2e.harness import Bot, User

FILE = {"file_id": "f1", "file_unique_id": "u1"}
STICKER = {**FILE, "type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False}
NOT_TEXT = "I can only read text messages."

# name, how to send it, what the first reply says (None: silently ignored, no reply at all; "a|b": either)
BAD_INPUTS: list[tuple[str, Callable[[User], Awaitable[list[dict[str, Any]]]], str | None]] = [
    ("sticker", lambda user: user.post(sticker=STICKER), NOT_TEXT),
    ("photo", lambda user: user.post(photo=[{**FILE, "width": 90, "height": 90}], caption=None), NOT_TEXT),
    ("voice", lambda user: user.post(voice={**FILE, "duration": 3, "mime_type": "audio/ogg"}), NOT_TEXT),
    ("video_note", lambda user: user.post(video_note={**FILE, "length": 240, "duration": 2}), NOT_TEXT),
    ("location", lambda user: user.post(location={"latitude": 40.4168, "longitude": -3.7038}), NOT_TEXT),
    ("document", lambda user: user.post(document={**FILE, "file_name": "scan.pdf"}), NOT_TEXT),
    ("dice", lambda user: user.post(dice={"emoji": "🎲", "value": 4}), NOT_TEXT),
    (
        "edited_message",
        lambda user: user.push({"edited_message": {**user.message("Paris"), "edit_date": 2}}),
        None,
    ),
    ("unknown_command", lambda user: user.send("/frobnicate now"), "didn't understand"),
    ("four_thousand_chars", lambda user: user.send("a" * 4000), "too long"),
    ("emoji_only", lambda user: user.send("😀🎉👍"), "couldn't find any words"),
    ("stale_button", lambda user: user.tap("no_such_option"), "earlier question|didn't understand"),
]


async def assert_every_bad_input_changes_nothing(
    bot: Bot, user: User, sessions: async_sessionmaker[AsyncSession]
) -> None:
    where = (await snapshot(sessions, str(user.chat_id))).step or "idle"
    for name, send, expected in BAD_INPUTS:
        before = await snapshot(sessions, str(user.chat_id))
        replies = await send(user)
        label = f"{where}/{name}"
        if expected is None:
            assert replies == [], f"{label}: expected silence, got {user.text!r}"
        else:
            first = replies[0]["text"] if replies else ""
            assert any(part in first for part in expected.split("|")), f"{label}: {user.text!r}"
            assert all(len(reply["text"]) <= 4096 for reply in replies), label
            assert len(replies[0]["text"].split("\n\n")[0]) < 300, f"{label}: the note should be short"
        assert await snapshot(sessions, str(user.chat_id)) == before, f"{label} changed the stored state"
    assert bot.errors == []


async def test_bad_inputs_during_sign_up_and_after_change_nothing(
    bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = bot.user(7201)
    await user.send("hi")
    answers: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("consent", lambda: user.tap("yes")),
        ("name", lambda: user.send("Ana")),
        ("timezone", lambda: user.send("Madrid")),
        ("timezone_confirm", lambda: user.tap("yes")),
        ("formulation", lambda: user.tap("iv")),
        ("stage", lambda: user.tap("six_monthly")),
        ("last_dose", lambda: user.send("3 June")),
        ("appointment", lambda: user.send("12 March 9:30")),
        ("place", lambda: user.tap("skip")),
        ("phone", lambda: user.tap("no")),
        ("confirm", lambda: user.tap("confirm")),
        ("idle", lambda: user.send("/reschedule")),
        ("appointment", lambda: user.send("/menu")),
    ]
    for step, answer in answers:
        assert ((await snapshot(sessions, "7201")).step or "idle") == step
        await assert_every_bad_input_changes_nothing(bot, user, sessions)
        await answer()
    assert (await snapshot(sessions, "7201")).flow == "reschedule"  # still there: nothing above moved it


async def test_a_sticker_as_the_very_first_message_starts_sign_up_in_the_users_language(bot: Bot) -> None:
    user = bot.user(7202, "es")
    await user.post(sticker=STICKER)
    assert "¿Estás de acuerdo?" in user.text


async def test_group_chats_are_declined_politely_and_never_reach_the_dialog(
    bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    member = bot.user(7203)
    for chat in ({"id": -4001, "type": "group", "title": "MS friends"},
                 {"id": -1004002, "type": "supergroup", "title": "MS support"}):  # fmt: skip
        for text in ("/start", "/help@ocrebot_test_bot", "hello everyone"):
            message = {**member.message(text), "chat": chat}
            if text.startswith("/"):
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
            update_id = bot.fake.push_update({"message": message})
            await bot.handled(update_id)
        replies = bot.sent_to(chat["id"])
        assert [reply["text"] for reply in replies] == [GROUP_DECLINE, GROUP_DECLINE]  # commands only
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Patient)) == 0
        assert await session.scalar(select(func.count()).select_from(ChannelAddress)) == 0


async def test_a_message_in_a_channel_the_bot_was_added_to_is_ignored(
    bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    post = {
        "message_id": 5,
        "date": 1,
        "chat": {"id": -1009, "type": "channel", "title": "News"},
        "text": "/start",
    }
    await bot.handled(bot.fake.push_update({"channel_post": post}))
    assert bot.sent_to(-1009) == []
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Patient)) == 0
