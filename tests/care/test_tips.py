"""The weekly tip: its slot in the patient's wall clock (never in quiet hours), its week key, the topic
order, and texts that fit both channels in both languages."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sms_text import count_segments, fold_to_gsm7
from care.library import MAX_TELEGRAM_CHARS, default_library
from care.plan import PlanError, load_plan, plan_from_mapping
from care.quiet_hours import NO_QUIET_HOURS, QuietHours
from care.tips import (
    DEFAULT_SLOT,
    TIP_TOPICS,
    TipSlot,
    next_tip,
    tip_order,
    tip_text,
    topic_for,
    week_key,
)
from tests.care.strategies import aware, local_datetimes, quiet_hours, wall, zones

MADRID = ZoneInfo("Europe/Madrid")
NIGHT = QuietHours(time(21, 0), time(8, 0))
REGION_ZONES = ("America/New_York", "Europe/Madrid", "Europe/London")  # us, eu, uk


@pytest.mark.parametrize(
    ("zone", "now", "quiet", "key", "local_due"),
    [
        (
            "Europe/Madrid",
            datetime(2026, 11, 26, 9, 0, tzinfo=UTC),
            NIGHT,
            "tip:2026-W49",
            wall(2026, 12, 1, 11, 0),
        ),
        (
            "Europe/Madrid",
            datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
            NIGHT,
            "tip:2026-W49",
            wall(2026, 12, 1, 11, 0),
        ),
        (
            "Europe/Madrid",
            datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
            NIGHT,
            "tip:2026-W50",
            wall(2026, 12, 8, 11, 0),
        ),
        (
            "Europe/Madrid",
            datetime(2026, 11, 26, 9, 0, tzinfo=UTC),
            QuietHours(time(22, 0), time(12, 30)),
            "tip:2026-W49",
            wall(2026, 12, 1, 12, 30),
        ),
        (
            "America/New_York",
            datetime(2026, 12, 28, 12, 0, tzinfo=UTC),
            NIGHT,
            "tip:2026-W53",
            wall(2026, 12, 29, 11, 0),
        ),
        (
            "America/New_York",
            datetime(2027, 3, 8, 12, 0, tzinfo=UTC),
            NIGHT,
            "tip:2027-W10",
            wall(2027, 3, 9, 11, 0),
        ),
        (
            "Pacific/Auckland",
            datetime(2026, 11, 30, 21, 0, tzinfo=UTC),
            NIGHT,
            "tip:2026-W49",
            wall(2026, 12, 1, 11, 0),
        ),
    ],
    ids=[
        "madrid_thursday_to_next_tuesday",
        "madrid_monday_to_tomorrow",
        "madrid_at_the_slot_to_next_week",
        "own_quiet_hours_move_it_later",
        "iso_week_53_at_year_end",
        "new_york_after_spring_forward",
        "auckland_already_tuesday_before_the_slot",
    ],
)
def test_the_next_tip_is_the_next_weekly_slot_in_the_patients_wall_clock(
    zone: str, now: datetime, quiet: QuietHours, key: str, local_due: datetime
) -> None:
    tz = ZoneInfo(zone)
    found = next_tip(now, tz, quiet)
    local = found.due_at.astimezone(tz)
    assert found.dedupe_key == key
    assert (local.replace(tzinfo=None), local.fold) == (local_due, 0)


@settings(max_examples=300, deadline=None)
@given(
    local=local_datetimes, tz=zones, quiet=quiet_hours(), weekday=st.integers(0, 6), hour=st.integers(0, 23)
)
def test_a_tip_is_never_due_in_quiet_hours_and_comes_within_two_weeks(
    local: datetime, tz: ZoneInfo, quiet: QuietHours, weekday: int, hour: int
) -> None:
    now = aware(local, tz)
    found = next_tip(now, tz, quiet, TipSlot(weekday, time(hour, 0)))
    assert now < found.due_at <= now + timedelta(days=15)
    assert not quiet.is_quiet(found.due_at, tz)
    assert found.dedupe_key.startswith("tip:")


@settings(max_examples=200, deadline=None)
@given(local=local_datetimes, tz=zones)
def test_asking_again_before_the_slot_gives_the_same_week_and_after_it_the_next(
    local: datetime, tz: ZoneInfo
) -> None:
    now = aware(local, tz)
    first = next_tip(now, tz, NO_QUIET_HOURS)
    assert next_tip(first.due_at - timedelta(minutes=1), tz, NO_QUIET_HOURS) == first
    following = next_tip(first.due_at, tz, NO_QUIET_HOURS)
    assert following.dedupe_key != first.dedupe_key
    assert timedelta(days=6) < following.due_at - first.due_at < timedelta(days=8)


def test_the_week_key_is_the_iso_week() -> None:
    assert week_key(date(2026, 12, 29)) == "tip:2026-W53"
    assert week_key(date(2027, 1, 4)) == "tip:2027-W01"
    assert week_key(date(2027, 1, 1)) == "tip:2026-W53"


def test_topics_go_in_order_skip_the_other_formulation_and_come_round_again() -> None:
    iv = tip_order("iv")
    assert "injection_schedule" not in iv and "iv_schedule" in iv
    assert "iv_schedule" not in tip_order("sc") and "injection_schedule" in tip_order("sc")
    assert [topic_for(n, "iv") for n in range(len(iv) + 1)] == [*iv, iv[0]]
    assert set(tip_order(None)) == set(TIP_TOPICS)


def test_tip_topics_are_general_library_topics_never_ones_naming_symptoms() -> None:
    library = default_library()
    known = {topic.id for topic in library.topics}
    for topic_id in TIP_TOPICS:
        assert topic_id in known
        assert not library.topic(topic_id).names_symptoms, topic_id


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("zone", REGION_ZONES)
def test_every_tip_fits_telegram_and_two_sms_segments_with_header_and_how_to_stop(
    language: str, zone: str
) -> None:
    library = default_library()
    header, stop, stop_sms = {
        "en": ("Weekly tip: ", "Send /tips to stop", "Reply TIPS OFF"),
        "es": ("Consejo semanal: ", "Envía /tips para dejar", "Responde CONSEJOS NO"),
    }[language]
    for topic_id in TIP_TOPICS:
        telegram = tip_text(library, topic_id, language, zone, sms=False)
        sms = fold_to_gsm7(tip_text(library, topic_id, language, zone, sms=True))
        assert len(telegram) <= MAX_TELEGRAM_CHARS, (topic_id, len(telegram))
        assert count_segments(sms).count <= 2, (topic_id, count_segments(sms))
        assert telegram.startswith(header + library.topic(topic_id).title[language])
        assert telegram.endswith(".") and stop in telegram.splitlines()[-1]
        assert sms.startswith(header) and fold_to_gsm7(stop_sms) in sms


def test_the_slot_is_a_plan_entry_checked_on_loading() -> None:
    assert load_plan().tip_slot == DEFAULT_SLOT == TipSlot(1, time(11, 0))
    text = resources.files("care").joinpath("reminder_plan.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    assert plan_from_mapping(data | {"weekly_tip": {"day": "fri", "at": "17:30"}}).tip_slot == TipSlot(
        4, time(17, 30)
    )
    assert plan_from_mapping({k: v for k, v in data.items() if k != "weekly_tip"}).tip_slot == DEFAULT_SLOT
    for bad, field in (({"day": "someday", "at": "11:00"}, "day"), ({"day": "tue", "at": "25:00"}, "at"),
                       ({"day": "tue", "at": "11:00", "every": 2}, "every")):  # fmt: skip
        with pytest.raises(PlanError, match=f"weekly_tip.{field}"):
            plan_from_mapping(data | {"weekly_tip": bad})
