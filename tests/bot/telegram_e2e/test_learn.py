"""Questions in words over Telegram (the real PTB Application against the fake Bot API): a known one gets its
topic with sources and buttons; an unknown one says so, points to the care team and emergencies, and offers
the topics as buttons, never a guess."""

from __future__ import annotations

from tests.bot.telegram_e2e.harness import Bot, english_sign_up

CHAT = 7401


async def test_an_unknown_question_says_so_and_offers_the_topics_as_buttons(bot: Bot) -> None:
    user = bot.user(CHAT, "en")
    await english_sign_up(user)
    await user.send("what's the weather like in Madrid?")
    assert user.text.startswith("I don't know that one, sorry")
    assert "ask your care team" in user.text and "emergency services" in user.text
    assert "page 1 of 4" in user.text
    assert len(user.keys) == 9 and user.keys[0] == "cmd:learn:what_is_ocrevus"
    assert user.keys[-1] == "cmd:learn:page:2"
    await user.tap(user.keys[0])
    assert user.text.startswith("What Ocrevus is\n\n") and "Sources:" in user.text


async def test_an_unknown_question_in_spanish_is_answered_in_spanish(bot: Bot) -> None:
    user = bot.user(CHAT, "en")
    await english_sign_up(user)
    await user.send("/language es")
    await user.send("¿qué tiempo hace hoy en Madrid?")
    assert user.text.startswith("Lo siento, eso no lo sé")
    assert "Pregunta a tu equipo médico" in user.text and "emergencias" in user.text
    assert len(user.keys) == 9 and user.labels[0] == "Qué es Ocrevus"


async def test_a_known_question_gets_its_topic_with_sources(bot: Bot) -> None:
    user = bot.user(CHAT, "en")
    await english_sign_up(user)
    await user.send("can i get the flu jab?")
    assert user.text.startswith("Vaccines and their timing")
    assert "Sources:" in user.text and user.keys[-1] == "cmd:learn"
