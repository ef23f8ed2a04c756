"""The education library in the conversation: /learn's topic pages, tapping a topic, questions in words."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from care.sms_segments import segments
from storage.models import Channel
from tests.bot.dialog.helpers import Chat, sign_up, snapshot


async def test_learn_pages_through_every_topic_eight_at_a_time(chat: Chat) -> None:
    await sign_up(chat)
    await chat.send("/learn")
    seen = [key for key in chat.keys if not key.startswith("cmd:learn:page:")]
    assert len(seen) == 8 and chat.keys[-1] == "cmd:learn:page:2"
    for page in (2, 3, 4):
        await chat.choose(f"cmd:learn:page:{page}")
        assert f"page {page} of 4" in chat.text
        seen += [key for key in chat.keys if not key.startswith("cmd:learn:page:")]
    assert chat.keys[-1] == "cmd:learn:page:3" and "cmd:learn:page:5" not in chat.keys  # last page: back only
    await chat.choose("cmd:learn:page:2")
    assert chat.keys[-2:] == ["cmd:learn:page:1", "cmd:learn:page:3"]
    assert len(seen) == len(set(seen)) == 25 and "cmd:learn:pml" in seen
    await chat.choose("cmd:learn:page:99")
    assert "page 4 of 4" in chat.text


async def test_tapping_a_topic_sends_its_text_sources_and_related_topics(chat: Chat) -> None:
    await sign_up(chat)  # Madrid: the EU label
    await chat.choose("cmd:learn:pregnancy")
    assert chat.text.startswith("Pregnancy and contraception\n\nIn the UK and the EU")
    assert "4 months after your last dose" in chat.text and "6 months" not in chat.text
    assert "Sources: Roche UK: pregnancy and breastfeeding licence update;" in chat.text
    assert chat.keys == ["cmd:learn:breastfeeding", "cmd:learn:vaccines", "cmd:learn"]


async def test_a_question_in_words_when_idle_gets_the_best_topic(chat: Chat) -> None:
    await sign_up(chat)
    before = await _version(chat)
    await chat.send("can i get the flu jab?")
    assert chat.text.startswith("Vaccines and their timing\n\nLive or live-attenuated vaccines")
    assert chat.keys[-1] == "cmd:learn" and "cmd:learn:vaccines" not in chat.keys
    assert await _version(chat) == before  # answering stores nothing


async def test_an_unknown_question_says_so_lists_the_topics_and_points_to_the_care_team(chat: Chat) -> None:
    await sign_up(chat)
    await chat.send("what's the weather like in Madrid?")
    assert chat.text.startswith("I don't know that one, sorry") and "ask your care team" in chat.text
    assert "emergency services" in chat.text and "page 1 of 4" in chat.text
    assert len(chat.keys) == 9 and chat.keys[0] == "cmd:learn:what_is_ocrevus"


async def test_small_talk_when_idle_still_gets_the_menu(chat: Chat) -> None:
    await sign_up(chat)
    await chat.send("thanks!")
    assert "didn't understand" in chat.text and "cmd:next" in chat.keys


async def test_learn_with_words_is_a_question_and_keeps_an_open_question(chat: Chat) -> None:
    await sign_up(chat)
    await chat.send("/reschedule")
    await chat.send("/learn what is PML")
    assert "PML (progressive multifocal leukoencephalopathy)" in chat.text
    assert "new date and time" in chat.last[-1].text  # the open question is asked again
    assert (await _snapshot_step(chat)) == "appointment"
    await chat.send("/learn colitis")
    assert chat.last[0].text.startswith("Colitis (bowel inflammation)")


async def test_a_question_during_sign_up_is_not_taken_for_the_library(chat: Chat) -> None:
    await chat.send("hi")
    await chat.choose("yes")
    await chat.send("vaccines")  # the name question: a name, not a library question
    assert "Nice to meet you, vaccines" in chat.text or "name" in chat.text


async def test_spanish_by_sms_gets_the_short_text_of_its_region_even_while_signing_up(
    make_chat: Callable[..., Chat],
) -> None:
    chat = make_chat("+34600111222", channel=Channel.SMS)
    await chat.send("hola")
    await chat.choose("yes")
    await chat.send("Luis")
    await chat.send("Sevilla")
    await chat.choose("yes")
    await chat.send("/language es")
    await chat.send("/learn")
    assert "página 1 de 9" in chat.text  # 25 topics, 3 a page by SMS (two segments)
    await chat.send("/learn ¿puedo quedarme embarazada?")  # still signing up: /learn answers, then asks again
    sms = chat.last[0].text
    assert "4 meses" in sms and "Fuentes" not in sms and segments(sms) <= 2 and chat.last[0].options == ()
    assert "¿Cómo recibes Ocrevus?" in chat.last[-1].text


async def test_the_region_follows_the_time_zone(make_chat: Callable[..., Chat]) -> None:
    chat = make_chat("tg-ny")
    await sign_up(chat, name="Joe")
    await chat.send("/timezone")
    await chat.send("New York")
    await chat.choose("yes")
    await chat.send("do I need birth control?")
    assert "In the US" in chat.text and "6 months after your last infusion" in chat.text


async def _version(chat: Chat) -> int:
    return (await snapshot(_sessions(chat), chat.address)).version


async def _snapshot_step(chat: Chat) -> str | None:
    return (await snapshot(_sessions(chat), chat.address)).step


def _sessions(chat: Chat) -> async_sessionmaker[AsyncSession]:
    return chat.engine._sessions  # the engine's own session maker: the test reads what it stored
