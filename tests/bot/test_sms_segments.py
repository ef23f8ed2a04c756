"""The SMS text budget: segments counted as Twilio counts them, and every SMS we send fits in two.

Covers every outbound template (bot/outbound_texts.toml, channel "sms") in both languages with long names
and places, and every reply of the dialog as it goes over SMS (a whole sign-up and the keywords after it,
in English and in Spanish), through the real webhook.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbound import OutboundContext, default_texts, render_outbound
from bot.sms_text import MAX_SEGMENTS, count_segments, fold_to_gsm7, is_gsm7
from care.clock import FakeClock
from care.plan import ReminderPlan, load_plan
from tests.fakes.twilio_api import FakeTwilio
from tests.ocrebot.twilio_app import START, SmsPhone, build_app, client_for, sms_settings

LONG_NAME = "María José Fernández-Castellanos"
LONG_PLACE = "Hospital Universitario Infanta Leonor, Unidad de Día"


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),
        ("€" * 81, "GSM-7", 2),
        ("a" * 152 + "€", "GSM-7", 1),
        ("a" * 152 + "€" + "a" * 8, "GSM-7", 2),
        ("a" * 152 + "€" + "a" * 153, "GSM-7", 3),  # the escape pair is not split: it opens part 2
        ("ж" * 70, "UCS-2", 1),
        ("ж" * 71, "UCS-2", 2),
        ("ж" * 134, "UCS-2", 2),
        ("ж" * 135, "UCS-2", 3),
        ("😀" * 35, "UCS-2", 1),
        ("😀" * 36, "UCS-2", 2),
        ("a" * 66 + "😀" + "a" * 66, "UCS-2", 3),  # a surrogate pair is not split either
    ],
    ids=["gsm_160", "gsm_161", "gsm_306", "gsm_307", "euro_80", "euro_81", "euro_last_fits", "euro_then_more",
         "euro_at_boundary", "ucs2_70", "ucs2_71", "ucs2_134", "ucs2_135", "emoji_35", "emoji_36",
         "emoji_at_boundary"],
)  # fmt: skip
def test_segments_are_counted_as_twilio_counts_them(text: str, encoding: str, segments: int) -> None:
    counted = count_segments(text)
    assert (counted.encoding, counted.count) == (encoding, segments)


def test_folding_keeps_gsm7_letters_and_drops_only_accents_gsm7_lacks() -> None:
    assert (
        fold_to_gsm7("¿Mañana? Sí, la inyección – “a la 1”… ç É ü")
        == '¿Mañana? Si, la inyeccion - "a la 1"... c É ü'
    )
    assert fold_to_gsm7("Zoë 😀 王") == "Zoe 😀 王"  # what has no GSM-7 form stays, and goes as UCS-2
    assert count_segments(fold_to_gsm7("Zoë 😀")).encoding == "UCS-2"


def _contexts() -> list[tuple[str, OutboundContext]]:
    zone = ZoneInfo("America/New_York")
    starts = datetime(2027, 9, 29, 13, 45, tzinfo=zone)  # a Wednesday in September: long names
    contexts = []
    for formulation, number, dose, days in itertools.product(
        ("iv", "sc"), ("911", None), (1, 2, 3), (0, 1, 3, 7)
    ):
        contexts.append(
            (
                f"{formulation}-{number}-dose{dose}-{days}d",
                OutboundContext(
                    display_name=LONG_NAME,
                    starts_at_local=starts,
                    location=LONG_PLACE,
                    formulation=formulation,
                    dose_number=dose,
                    last_dose_local=starts - timedelta(days=183),
                    emergency_number=number,
                    sending_at_local=starts - timedelta(days=days, hours=5),
                ),
            )
        )
    return contexts


@pytest.mark.parametrize("locale", ["en-US", "en-GB", "es-ES", "es-MX"])
@pytest.mark.parametrize("touchpoint", sorted(default_texts().touchpoints))
def test_every_sms_template_fits_in_two_gsm7_segments(touchpoint: str, locale: str) -> None:
    for name, context in _contexts():
        text = fold_to_gsm7(render_outbound(touchpoint, context, locale, "sms").text)
        counted = count_segments(text)
        assert is_gsm7(text), (name, text)
        assert counted.count <= MAX_SEGMENTS, (name, counted, text)


SCRIPTS = {
    "en": ["hello", "JOIN", "YES", LONG_NAME, "New York", "yes", "1", "3", "3 June", "12 March 9:30",
           LONG_PLACE, "1", "NEXT", "learn vaccines", "PAUSE", "PAUSE", "RESUME", "DONE", "2", "CHANGE",
           "20 March 10:00", "DELETE", "2", "HELP", "what?", "MENU", "STOP", "START"],
    "es": ["JOIN", "ESPANOL", "si", LONG_NAME, "Madrid", "si", "1", "3", "3 junio", "12 marzo 9:30",
           LONG_PLACE, "1", "NEXT", "learn vacunas", "PAUSE", "RESUME", "DONE", "2", "CHANGE",
           "20 marzo 10:00", "DELETE", "2", "AYUDA", "¿qué?", "MENU", "STOP", "START"],
}  # fmt: skip


@pytest.fixture
async def http(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[httpx.AsyncClient]:
    plan: ReminderPlan = load_plan()
    async with client_for(build_app(sessions, plan, FakeClock(START), sms_settings())) as client:
        yield client


@pytest.mark.parametrize("language", ["en", "es"])
async def test_every_dialog_reply_over_sms_fits_in_two_gsm7_segments(
    http: httpx.AsyncClient, language: str
) -> None:
    phone = SmsPhone(http, FakeTwilio())
    replies = []
    for body in SCRIPTS[language]:
        replies += [(body, reply) for reply in await phone.text(body)]
    assert len(replies) >= len(SCRIPTS[language]) - 2, replies  # STOP is answered by Twilio, not us
    for body, reply in replies:
        counted = count_segments(reply)
        assert is_gsm7(reply), (body, reply)
        assert counted.count <= MAX_SEGMENTS, (body, counted, reply)
        assert not re.search(r"(^|\s)/[a-z]", reply), (body, reply)  # commands are words to text by SMS


@pytest.mark.parametrize("language", ["en", "es"])
async def test_the_learn_topic_menu_over_sms_fits_in_two_segments(
    http: httpx.AsyncClient, language: str
) -> None:
    phone = SmsPhone(http, FakeTwilio())
    for body in SCRIPTS[language][: SCRIPTS[language].index(LONG_PLACE) + 2]:
        await phone.text(body)
    [menu] = await phone.text("LEARN")
    assert count_segments(menu).count <= MAX_SEGMENTS, menu
