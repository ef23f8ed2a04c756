"""Stickers, photos, empty, huge and emoji-only messages get a short helpful answer and change nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.bot.dialog.helpers import Chat, snapshot

BAD_INPUTS: list[tuple[str, dict[str, object], str]] = [
    ("sticker_or_photo", {"text": None}, "I can only read text messages."),
    ("empty", {"text": ""}, "That message looked empty."),
    ("blank", {"text": "   \n "}, "That message looked empty."),
    ("four_thousand_chars", {"text": "a" * 4000}, "too long"),
    ("emoji_only", {"text": "😀🎉👍"}, "couldn't find any words"),
    ("punctuation_only", {"text": "?!..."}, "couldn't find any words"),
]


async def assert_bad_inputs_change_nothing(
    chat: Chat, sessions: async_sessionmaker[AsyncSession], where: str
) -> None:
    before = await snapshot(sessions, chat.address)
    question_options = chat.last[-1].options
    for name, fields, expected in BAD_INPUTS:
        text = fields.pop("text", None) if "text" in fields else None
        replies = await chat.send(text if isinstance(text, str) else None, **fields)
        fields["text"] = text
        assert expected in replies[0].text, f"{where}/{name}: {replies[0].text!r}"
        assert len(replies[-1].text) < 1500, f"{where}/{name}: the answer should stay short"
        assert replies[-1].options == question_options, f"{where}/{name}: the same question is asked again"
        assert await snapshot(sessions, chat.address) == before, f"{where}/{name} changed the state"


async def test_bad_inputs_at_every_step_change_nothing(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await chat.send("hi")
    steps: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("consent", lambda: chat.choose("yes")),
        ("name", lambda: chat.send("Ana")),
        ("timezone", lambda: chat.send("Madrid")),
        ("timezone_confirm", lambda: chat.choose("yes")),
        ("formulation", lambda: chat.choose("iv")),
        ("stage", lambda: chat.choose("six_monthly")),
        ("last_dose", lambda: chat.send("1 October")),
        ("appointment", lambda: chat.send("10 January")),
        ("appointment_time", lambda: chat.send("9:00")),
        ("appointment_warning", lambda: chat.choose("keep")),
        ("place", lambda: chat.choose("skip")),
        ("phone", lambda: chat.choose("no")),
        ("confirm", lambda: chat.choose("confirm")),
        ("idle", lambda: chat.send("/reschedule")),
        ("reschedule", lambda: chat.send("/menu")),
    ]
    for where, advance in steps:
        snap = await snapshot(sessions, chat.address)
        assert (snap.step or "idle") == where.replace("reschedule", "appointment"), (where, snap)
        await assert_bad_inputs_change_nothing(chat, sessions, where)
        await advance()


async def test_free_text_where_only_a_choice_will_do_is_asked_again(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await chat.send("hi")
    before = await snapshot(sessions, chat.address)
    await chat.send("maybe later")
    assert "choose one of the options" in chat.text and chat.keys == ["yes", "no", "cmd:language:es"]
    assert await snapshot(sessions, chat.address) == before


async def test_an_old_button_is_not_taken_as_an_answer(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await chat.send("hi")
    await chat.choose("yes")
    before = await snapshot(sessions, chat.address)
    await chat.choose("yes")  # the consent button, tapped again at the name question
    assert "earlier question" in chat.text and "What name" in chat.text
    assert await snapshot(sessions, chat.address) == before


async def test_a_shared_contact_outside_the_phone_question_is_refused(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await chat.send("hi")
    await chat.choose("yes")
    before = await snapshot(sessions, chat.address)
    await chat.send(None, contact_phone="+34600123456")
    assert "don't need a phone number right now" in chat.text and "What name" in chat.text
    assert await snapshot(sessions, chat.address) == before


async def test_names_that_are_not_names_are_refused(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await chat.send("hi")
    await chat.choose("yes")
    for text in ("12345", "x" * 51, "/@name"):
        await chat.send(text)
        assert "just the name" in chat.text, text
    assert (await snapshot(sessions, chat.address)).step == "name"
