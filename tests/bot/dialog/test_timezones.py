"""Finding a time zone from the place a patient types, and confirming it by their local time."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dialog.timezones import find_zones, zone_country, zone_label
from tests.bot.dialog.helpers import Chat, patient_of


@pytest.mark.parametrize(
    ("text", "first_zone", "several"),
    [
        ("Madrid", "Europe/Madrid", False),
        ("new york", "America/New_York", False),
        ("Nueva York", "America/New_York", False),
        ("Buenos Aires", "America/Argentina/Buenos_Aires", False),
        ("London", "Europe/London", False),
        ("Londres", "Europe/London", False),
        ("Mexico", "America/Mexico_City", True),
        ("México", "America/Mexico_City", True),
        ("Ciudad de México", "America/Mexico_City", False),
        ("España", "Europe/Madrid", True),
        ("USA", "America/New_York", True),
        ("Argentina", "America/Argentina/Buenos_Aires", False),
        ("I live in Barcelona", "Europe/Madrid", False),
        ("Madrid, Spain", "Europe/Madrid", False),
        ("Londn", "Europe/London", False),
        ("Bogotá", "America/Bogota", False),
        ("Alemania", "Europe/Berlin", False),
        ("Europe/Paris", "Europe/Paris", False),
    ],
    ids=[
        "city",
        "city_lower_case",
        "city_in_spanish",
        "city_in_a_deep_zone",
        "london",
        "london_in_spanish",
        "country_with_several_zones",
        "country_with_accent",
        "city_alias_in_spanish",
        "country_in_spanish",
        "country_abbreviation",
        "country_with_one_offset",
        "filler_words_and_a_city_without_a_zone",
        "city_and_country",
        "typo",
        "accented_city",
        "country_in_spanish_one_zone",
        "iana_name",
    ],
)
def test_a_place_gives_its_zones(text: str, first_zone: str, several: bool) -> None:
    zones = find_zones(text)
    assert zones[0] == first_zone
    assert (len(zones) > 1) is several


def test_nonsense_gives_no_zone() -> None:
    assert find_zones("qwertyuiop") == []
    assert find_zones("") == []


def test_zone_names_and_countries() -> None:
    assert zone_label("America/New_York", "es") == "Nueva York"
    assert zone_label("America/Argentina/Buenos_Aires", "en") == "Buenos Aires"
    assert zone_country("Europe/Madrid") == "ES"
    assert zone_country("Etc/UTC") is None


async def test_a_country_with_several_zones_offers_them_with_their_local_time(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await chat.send("hi")
    await chat.choose("yes")
    await chat.send("Ana")
    await chat.send("Atlantis")
    assert "couldn't find that place" in chat.text
    await chat.send("Mexico")
    assert "Which of these" in chat.text
    assert chat.last[-1].options[0].label == "Mexico City (3:00 AM)"
    assert chat.keys[-1] == "no"
    await chat.send("2")  # Cancún
    assert "Time zone set: Cancún" in chat.text
    patient = await patient_of(sessions, chat.address)
    assert (patient.timezone, patient.country) == ("America/Cancun", "MX")


async def test_saying_no_to_the_local_time_asks_again(chat: Chat) -> None:
    await chat.send("hi")
    await chat.choose("yes")
    await chat.send("Ana")
    await chat.send("Paris")
    await chat.send("no")
    assert "city or country" in chat.text
    await chat.choose("tz:Europe/London")
    assert "In London it's 9:00 AM" in chat.text
