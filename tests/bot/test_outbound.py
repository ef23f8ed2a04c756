"""Outbound messages: every touchpoint renders in both languages and on every channel, from checked facts."""

from __future__ import annotations

import ast
import copy
import re
import tomllib
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot import outbound
from bot.outbound import (
    CHANNELS,
    OutboundContext,
    OutboundTextsError,
    load_outbound_texts,
    render_outbound,
)
from bot.outbound import texts_from_mapping as texts_from
from care.dose_duration import expected_duration
from care.formulation import Formulation
from care.plan import load_plan

TOUCHPOINTS = [touchpoint.id for touchpoint in load_plan().touchpoints] + list(outbound.JOB_TOUCHPOINTS)
DEFAULT = tomllib.loads(resources.files("bot").joinpath("outbound_texts.toml").read_text("utf-8"))
FACTS_FILE = Path(__file__).resolve().parents[3] / "shared" / "clinical-facts.md"
MADRID, NEW_YORK, MEXICO = (
    ZoneInfo("Europe/Madrid"),
    ZoneInfo("America/New_York"),
    ZoneInfo("America/Mexico_City"),
)
LONG_NAME = "Maximiliana Alexandra Featherstonehaugh-Montgomery"
LONG_PLACE = (
    "St Bartholomew's Hospital, Neurology Day Unit, Ground Floor, King George V Wing, West Smithfield"
)
SMS_NAME = "Christopher Featherstonehaugh"  # long, but a name people use in a text message
SMS_PLACE = "Riverside Hospital, Infusion Suite, Level 2"
GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = set("^{}\\[~]|€\f")


def _gsm_septets(text: str) -> int | None:
    """Returns the GSM-7 length of `text` (extension characters count twice), or None if it needs UCS-2."""
    if not set(text) <= GSM_BASIC | GSM_EXTENDED:
        return None
    return len(text) + sum(ch in GSM_EXTENDED for ch in text)


def _context(formulation: str = "iv", dose_number: int = 3, **changes: Any) -> OutboundContext:
    values: dict[str, Any] = {
        "display_name": LONG_NAME,
        "starts_at_local": datetime(2027, 3, 9, 9, 30, tzinfo=NEW_YORK),
        "location": LONG_PLACE,
        "formulation": formulation,
        "dose_number": dose_number,
        "duration": expected_duration(Formulation(formulation), dose_number),
        "last_dose_local": datetime(2026, 9, 9, 9, 30, tzinfo=NEW_YORK),
        "emergency_number": "911",
    }
    return OutboundContext(**{**values, **changes})


def test_every_touchpoint_of_the_plan_has_texts() -> None:
    assert set(TOUCHPOINTS) == set(DEFAULT["touchpoint"])


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("language", ["en", "es", "en-GB", "es_MX"])
@pytest.mark.parametrize("formulation", ["iv", "sc"])
@pytest.mark.parametrize("touchpoint", TOUCHPOINTS)
def test_every_touchpoint_renders_in_both_languages_on_every_channel_with_long_values(
    touchpoint: str, formulation: str, language: str, channel: str
) -> None:
    rendered = render_outbound(touchpoint, _context(formulation), language, channel)
    assert rendered.text.strip()
    assert not re.search(r"[{}]", rendered.text), rendered.text  # no placeholder left
    assert LONG_NAME in rendered.text
    assert "\u202f" not in rendered.text and "  " not in rendered.text
    assert not re.search(r"\d+\s*mg\b", rendered.text)  # never a dose amount
    assert not re.search(
        r"ocrevus|ocrelizumab|sclerosis|esclerosis", rendered.text, re.IGNORECASE
    )  # lock screens
    if touchpoint.startswith("reminder_"):
        assert LONG_PLACE in rendered.text


@pytest.mark.parametrize("touchpoint", TOUCHPOINTS)
@pytest.mark.parametrize("formulation", ["iv", "sc"])
def test_english_sms_is_gsm7_and_fits_two_segments(touchpoint: str, formulation: str) -> None:
    ctx = _context(formulation, display_name=SMS_NAME, location=SMS_PLACE)
    rendered = render_outbound(touchpoint, ctx, "en", "sms")
    septets = _gsm_septets(rendered.text)
    assert septets is not None, f"not GSM-7: {set(rendered.text) - GSM_BASIC - GSM_EXTENDED}"
    assert septets <= 306, (septets, rendered.text)


@pytest.mark.parametrize("touchpoint", TOUCHPOINTS)
def test_spanish_sms_stays_short(touchpoint: str) -> None:
    """Spanish needs UCS-2 (á, í, ó, ú): 67 characters a segment; six segments at most, for now."""
    ctx = _context(display_name="María José Fernández", location="Hospital La Paz, Hospital de Día, planta 2")
    rendered = render_outbound(touchpoint, ctx, "es", "sms")
    assert len(rendered.text) <= 6 * 67, (len(rendered.text), rendered.text)


@pytest.mark.parametrize(("touchpoint", "english", "spanish"), [
    ("reminder_morning_of", "today at", "hoy a las"),
    ("reminder_day_before", "tomorrow, Tuesday 9 March, at", "mañana, martes 9 de marzo, a las"),
    ("reminder_7_days", "on Tuesday 9 March at", "el martes 9 de marzo a las"),
])  # fmt: skip
@pytest.mark.parametrize("channel", CHANNELS)
def test_reminders_read_right_relative_to_the_day(
    touchpoint: str, english: str, spanish: str, channel: str
) -> None:
    ctx = _context()
    assert english in render_outbound(touchpoint, ctx, "en", channel).text
    assert spanish in render_outbound(touchpoint, ctx, "es", channel).text


def test_the_real_sending_day_wins_over_the_touchpoints_nominal_day() -> None:
    starts = datetime(2027, 3, 9, 9, 30, tzinfo=NEW_YORK)
    late = _context(sending_at_local=datetime(2027, 3, 9, 6, 45, tzinfo=NEW_YORK))  # a catch-up on the day
    assert "today at" in render_outbound("reminder_day_before", late, "en", "telegram").text
    early = _context(sending_at_local=starts - timedelta(days=2))
    assert "on Tuesday 9 March" in render_outbound("reminder_day_before", early, "en", "telegram").text
    utc = _context(sending_at_local=datetime(2027, 3, 9, 2, 0, tzinfo=ZoneInfo("UTC")))  # still the 8th in NY
    assert "tomorrow" in render_outbound("reminder_morning_of", utc, "en", "telegram").text


def test_dates_and_times_follow_the_patients_locale() -> None:
    one_pm = _context(starts_at_local=datetime(2027, 3, 9, 13, 0, tzinfo=MEXICO))
    assert (
        "el martes 9 de marzo a la 1:00 p.m."
        in render_outbound("reminder_7_days", one_pm, "es-MX", "web").text
    )
    assert "hoy a las 13:00" in render_outbound("reminder_morning_of", one_pm, "es", "web").text
    madrid = _context(starts_at_local=datetime(2027, 11, 2, 9, 30, tzinfo=MADRID))
    assert "martes 2 de noviembre a las 9:30" in render_outbound("reminder_7_days", madrid, "es", "web").text
    assert (
        "on Tuesday, March 9 at 9:30 AM"
        in render_outbound("reminder_7_days", _context(), "en_US", "web").text
    )
    assert (
        "on Tuesday 9 March at 09:30" in render_outbound("reminder_7_days", _context(), "en-GB", "web").text
    )
    nudge = render_outbound("booking_nudge", _context(starts_at_local=None), "es", "telegram").text
    assert "9 de septiembre de 2026" in nudge


def test_the_reminder_uses_the_patients_zone_as_given() -> None:
    late_evening = _context(starts_at_local=datetime(2027, 3, 9, 23, 15, tzinfo=ZoneInfo("Asia/Kolkata")))
    assert "Tuesday 9 March" in render_outbound("reminder_7_days", late_evening, "en-GB", "web").text


@pytest.mark.parametrize("touchpoint", ["check_in_evening", "check_in_24_hours"])
def test_check_ins_offer_three_options_and_own_words(touchpoint: str) -> None:
    telegram = render_outbound(touchpoint, _context(), "en", "telegram")
    assert [(o.key, o.label) for o in telegram.options] == [
        ("fine", "I feel fine"), ("mild", "Mild symptoms"), ("help_now", "I need help now"),
    ]  # fmt: skip
    assert "own words" in telegram.text
    assert "call emergency services now on 911" in telegram.text
    spanish = render_outbound(touchpoint, _context(), "es", "telegram")
    assert [o.label for o in spanish.options] == ["Me siento bien", "Síntomas leves", "Necesito ayuda ya"]
    assert "sus palabras" in spanish.text


def test_the_24_hour_check_in_says_reactions_can_come_up_to_24_hours_after() -> None:
    for language, words in (("en", "up to 24 hours after"), ("es", "hasta 24 horas después")):
        assert words in render_outbound("check_in_24_hours", _context(), language, "web").text


def test_without_an_emergency_number_the_check_in_still_says_call_emergency_services() -> None:
    text = render_outbound("check_in_evening", _context(emergency_number=None), "en", "telegram").text
    assert text.endswith("call emergency services now.")


@pytest.mark.parametrize(("touchpoint", "english", "spanish"), [
    ("check_in_evening", "Reply 1 for fine, 2 for mild symptoms or 3 for help now",
     "Responda 1 si está bien, 2 si nota algo leve o 3 si necesita ayuda"),
    ("dose_confirm", "Reply 1 for yes, 2 for not yet or 3 for moved to another day",
     "Responda 1 si la recibió, 2 si todavía no o 3 si se cambió la fecha"),
])  # fmt: skip
def test_sms_numbers_the_options_in_their_order(touchpoint: str, english: str, spanish: str) -> None:
    sms = render_outbound(touchpoint, _context(), "en", "sms")
    assert english in sms.text
    assert [o.key for o in sms.options] == [
        o.key for o in render_outbound(touchpoint, _context(), "en", "web").options
    ]
    assert spanish in render_outbound(touchpoint, _context(), "es", "sms").text
    assert "Reply 1" not in render_outbound(touchpoint, _context(), "en", "telegram").text


def test_dose_confirm_offers_yes_not_yet_moved() -> None:
    rendered = render_outbound("dose_confirm", _context(), "en", "telegram")
    assert [o.key for o in rendered.options] == ["yes", "not_yet", "moved"]
    assert "on Tuesday 9 March" in rendered.text


@pytest.mark.parametrize(("formulation", "dose", "english"), [
    ("iv", 1, "2 weeks after the first"),
    ("iv", 2, "6 months after the first of them"),
    ("iv", 3, "every 6 months"),
    ("sc", 1, "every 6 months"),
])  # fmt: skip
def test_the_booking_nudge_says_when_the_next_dose_is_usually_due(
    formulation: str, dose: int, english: str
) -> None:
    ctx = _context(formulation, dose, starts_at_local=None, location=None)
    text = render_outbound("booking_nudge", ctx, "en", "telegram").text
    assert english in text and "contact your clinic" in text
    assert "Your last infusion was on 9 September 2026" in text or formulation == "sc"


def test_plan_for_says_how_long_for_the_formulation() -> None:
    iv = render_outbound("reminder_7_days", _context("iv", 1), "en", "telegram").text
    assert "4 to 6 hours" in iv and "2 hours 30 minutes" in iv and "at least 1 hour" in iv
    assert "30 to 60 minutes before the infusion" in iv
    sc = render_outbound("reminder_day_before", _context("sc", 2), "es", "telegram").text
    assert "inyección (unos 10 minutos)" in sc and "al menos 15 minutos" in sc and "por boca" in sc
    assert "4 a 6 horas" not in sc


def test_the_reminders_ask_about_infection_before_coming() -> None:
    for touchpoint in ("reminder_7_days", "reminder_day_before", "reminder_morning_of"):
        assert "call your clinic before you come" in render_outbound(touchpoint, _context(), "en", "web").text
        assert "llame a su clínica antes de ir" in render_outbound(touchpoint, _context(), "es", "web").text


def test_missing_name_and_place_read_naturally() -> None:
    ctx = _context(display_name=None, location="  ")
    text = render_outbound("reminder_day_before", ctx, "en", "telegram").text
    assert text.startswith("Hi. A reminder: your infusion is tomorrow, Tuesday 9 March, at 9:30 AM.\n")


def test_a_name_with_braces_is_not_a_placeholder() -> None:
    text = render_outbound("dose_confirm", _context(display_name="{when} Ana\n"), "en", "telegram").text
    assert text.startswith("Hi {when} Ana. Did you")


def test_bad_calls_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown channel"):
        render_outbound("dose_confirm", _context(), "en", "fax")
    with pytest.raises(ValueError, match="no outbound text"):
        render_outbound("reminder_3_days", _context(), "en", "sms")
    with pytest.raises(ValueError, match="starts_at_local"):
        render_outbound("reminder_day_before", _context(starts_at_local=None), "en", "sms")
    with pytest.raises(ValueError, match="last_dose_local"):
        render_outbound("booking_nudge", _context(last_dose_local=None), "en", "sms")


def test_a_naive_sending_time_is_refused() -> None:
    naive = datetime(2027, 3, 8, 18, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="sending_at_local"):
        render_outbound("reminder_day_before", _context(sending_at_local=naive), "en", "sms")


def test_outbound_imports_neither_storage_nor_telegram() -> None:
    tree = ast.parse(Path(outbound.__file__).read_text(encoding="utf-8"))
    roots = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    roots |= {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert not roots & {"storage", "telegram", "twilio", "jobs", "admin", "ocrebot"}, roots


def test_an_unknown_language_falls_back_to_english() -> None:
    assert render_outbound("dose_confirm", _context(), "fr", "web").text.startswith("Hi ")


# --------------------------------------------------------------------------------------------- the facts
def _facts() -> dict[int, str]:
    """Returns each fact's mark: "V" when it carries a plain [V] (its [U] parts are not used), else "U"."""
    if not FACTS_FILE.exists():
        pytest.skip(f"{FACTS_FILE} not found")
    text = FACTS_FILE.read_text(encoding="utf-8").split("## Claims checked")[0]  # numbered questions follow
    facts = {}
    for line in text.splitlines():
        match = re.match(r"^(\d+)\. ", line)
        if match:
            marks = re.findall(r"\[([VU])([^\]]*)\]", line)
            facts[int(match[1])] = "V" if ("V", "") in marks else "U"
    return facts


def _fact_lists() -> dict[str, list[int]]:
    lists = {f"touchpoint.{tid}": t["facts"] for tid, t in DEFAULT["touchpoint"].items()}
    for name, variants in DEFAULT["phrase"].items():
        lists |= {f"phrase.{name}.{variant}": entry["facts"] for variant, entry in variants.items()}
    return lists


def test_every_template_and_phrase_rests_on_verified_facts() -> None:
    facts = _facts()
    assert len(facts) >= 70
    for where, numbers in _fact_lists().items():
        assert numbers or where.startswith("phrase.dose"), f"{where} lists no facts"
        assert {n: facts.get(n) for n in numbers} == dict.fromkeys(numbers, "V"), where


# ----------------------------------------------------------------------------------------- the texts file
def _broken(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(DEFAULT)
    change(data)
    return data


BAD_TEXTS = [
    ("version", lambda d: d.update(version=3), r"version: must be 1"),
    ("unknown_placeholder", lambda d: d["touchpoint"]["dose_confirm"].update(en="{greeting} {dose_date}?"),
     r"touchpoint.dose_confirm.en: unknown placeholder \['dose_date'\]"),
    ("options_outside_sms", lambda d: d["touchpoint"]["dose_confirm"].update(en="{options}"),
     r"touchpoint.dose_confirm.en: unknown placeholder"),
    ("sms_without_options", lambda d: d["touchpoint"]["check_in_evening"].update(sms_es="{greeting}"),
     r"touchpoint.check_in_evening.sms_es: must show \{options\}"),
    ("missing_spanish", lambda d: d["touchpoint"]["booking_nudge"].pop("es"), r"touchpoint.booking_nudge.es"),
    ("unknown_option", lambda d: d["touchpoint"]["dose_confirm"].update(options=["yes", "maybe"]),
     r"touchpoint.dose_confirm.options"),
    ("no_facts", lambda d: d["touchpoint"]["dose_confirm"].pop("facts"), r"touchpoint.dose_confirm.facts"),
    ("missing_variant", lambda d: d["phrase"]["plan_for"].pop("sc"), r"phrase.plan_for: must have exactly"),
    ("phrase_placeholder", lambda d: d["phrase"]["infection"]["all"].update(es="{name}"),
     r"phrase.infection.all.es: unknown placeholder"),
    ("unknown_phrase", lambda d: d["phrase"].update(farewell={}), r"phrase.farewell: is not a known phrase"),
    ("missing_phrase", lambda d: d["phrase"].pop("next_due"), r"phrase.next_due: is required"),
    ("language_key", lambda d: d["language"]["es"].pop("tomorrow"), r"language.es: lacks tomorrow"),
    ("plural", lambda d: d["language"]["en"].update(hour="hours"), r"language.en.hour: must be \[singular"),
    ("bad_days", lambda d: d["touchpoint"]["reminder_7_days"].update(days_before=-7), r"days_before"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "message"), [r[1:] for r in BAD_TEXTS], ids=[r[0] for r in BAD_TEXTS])
def test_a_bad_texts_file_names_the_entry_at_fault(change: Any, message: str) -> None:
    with pytest.raises(OutboundTextsError, match=message):
        texts_from(_broken(change), "test.toml")


def test_a_texts_file_given_by_path_is_used(tmp_path: Path) -> None:
    path = tmp_path / "texts.toml"
    text = resources.files("bot").joinpath("outbound_texts.toml").read_text("utf-8")
    path.write_text(text.replace('greeting = "Hi {name}."', 'greeting = "Hello {name}."'), encoding="utf-8")
    rendered = render_outbound("dose_confirm", _context(), "en", "web", texts=load_outbound_texts(path))
    assert rendered.text.startswith(f"Hello {LONG_NAME}.")
    with pytest.raises(OutboundTextsError, match="cannot be read"):
        load_outbound_texts(tmp_path / "missing.toml")
