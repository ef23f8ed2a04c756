"""The reminder plan is data: the default file loads, and a bad file names the touchpoint and field."""

import copy
import tomllib
from collections.abc import Callable
from datetime import time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from care.plan import (
    Anchor,
    ElapsedRule,
    PlanError,
    ReminderPlan,
    TouchpointKind,
    load_plan,
    parse_plan,
    plan_from_mapping,
)
from care.quiet_hours import QuietHours, QuietMove

DEFAULT = tomllib.loads(resources.files("care").joinpath("reminder_plan.toml").read_text("utf-8"))


def test_the_default_plan_loads_with_every_touchpoint_the_service_needs() -> None:
    plan = load_plan()
    assert plan.quiet_hours == QuietHours(time(21, 0), time(8, 0))
    assert [(t.id, t.kind) for t in plan.touchpoints] == [
        ("reminder_7_days", TouchpointKind.REMINDER),
        ("reminder_day_before", TouchpointKind.REMINDER),
        ("reminder_morning_of", TouchpointKind.REMINDER),
        ("check_in_evening", TouchpointKind.CHECK_IN),
        ("check_in_24_hours", TouchpointKind.CHECK_IN),
        ("dose_confirm", TouchpointKind.DOSE_CONFIRM),
        ("booking_nudge", TouchpointKind.BOOKING_NUDGE),
    ]


def test_the_default_plan_moves_reminders_earlier_and_everything_else_later() -> None:
    plan = load_plan()
    for touchpoint in plan.touchpoints:
        expected = QuietMove.EARLIER if touchpoint.kind is TouchpointKind.REMINDER else QuietMove.LATER
        assert touchpoint.quiet_move is expected, touchpoint.id


def test_the_default_plan_stores_a_catch_up_window_for_every_touchpoint() -> None:
    plan = load_plan()
    catch_up = {t.id: str(t.catch_up) for t in plan.touchpoints}
    assert catch_up == {
        "reminder_7_days": "start-1d",
        "reminder_day_before": "start+0m",
        "reminder_morning_of": "start+0m",
        "check_in_evening": "end+1d",
        "check_in_24_hours": "end+2d",
        "dose_confirm": "due+7d",
        "booking_nudge": "due+28d",
    }


def test_the_24_hour_check_in_counts_elapsed_time_from_the_expected_end() -> None:
    touchpoint = load_plan().touchpoint("check_in_24_hours")
    assert (touchpoint.anchor, touchpoint.rule) == (Anchor.END, ElapsedRule(timedelta(hours=24)))


def test_a_plan_file_path_is_read_and_validated(tmp_path: Path) -> None:
    text = resources.files("care").joinpath("reminder_plan.toml").read_text("utf-8")
    path = tmp_path / "plan.toml"
    path.write_text(text.replace('start = "21:00"', 'start = "22:30"'), encoding="utf-8")
    assert load_plan(path).quiet_hours.start == time(22, 30)


def test_a_missing_plan_file_is_a_plan_error_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="nope.toml"):
        load_plan(tmp_path / "nope.toml")


def test_a_plan_that_is_not_toml_is_a_plan_error() -> None:
    with pytest.raises(PlanError, match="not valid TOML"):
        parse_plan("version = = 1")


def _touchpoint(data: dict[str, Any], touchpoint_id: str) -> dict[str, Any]:
    return next(t for t in data["touchpoint"] if t["id"] == touchpoint_id)


def _set(touchpoint_id: str, **fields: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        _touchpoint(data, touchpoint_id).update(fields)

    return mutate


def _drop(touchpoint_id: str, field: str) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        del _touchpoint(data, touchpoint_id)[field]

    return mutate


def _top(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        data[key] = value

    return mutate


BAD_PLANS: list[tuple[str, Callable[[dict[str, Any]], None], str | None, str]] = [
    ("unknown_top_level_field", _top("reminders", []), None, "reminders"),
    ("unsupported_version", _top("version", 2), None, "version"),
    ("no_touchpoints", _top("touchpoint", []), None, "touchpoint"),
    (
        "quiet_hours_not_a_time",
        _top("quiet_hours", {"start": "9pm", "end": "08:00"}),
        None,
        "quiet_hours.start",
    ),
    (
        "quiet_hours_too_long",
        _top("quiet_hours", {"start": "12:00", "end": "08:00"}),
        None,
        "quiet_hours.end",
    ),
    (
        "quiet_hours_unknown_field",
        _top("quiet_hours", {"start": "21:00", "end": "08:00", "tz": "UTC"}),
        None,
        "quiet_hours.tz",
    ),
    ("missing_kind", _drop("reminder_7_days", "kind"), "reminder_7_days", "kind"),
    ("unknown_kind", _set("reminder_7_days", kind="survey"), "reminder_7_days", "kind"),
    ("misspelled_field", _set("reminder_day_before", at_time="18:00"), "reminder_day_before", "at_time"),
    ("hour_out_of_range", _set("reminder_day_before", at="25:00"), "reminder_day_before", "at"),
    ("time_as_number", _set("reminder_day_before", at=1800), "reminder_day_before", "at"),
    ("days_as_text", _set("reminder_7_days", days="-7"), "reminder_7_days", "days"),
    ("both_at_and_offset", _set("reminder_7_days", offset="-7d"), "reminder_7_days", "at"),
    ("neither_at_nor_offset", _drop("check_in_24_hours", "offset"), "check_in_24_hours", "at"),
    ("days_with_an_offset", _set("check_in_24_hours", days=1), "check_in_24_hours", "days"),
    ("duration_in_words", _set("check_in_24_hours", offset="1 day"), "check_in_24_hours", "offset"),
    ("unknown_anchor", _set("check_in_evening", not_before="lunch+30m"), "check_in_evening", "not_before"),
    ("missing_catch_up", _drop("dose_confirm", "catch_up"), "dose_confirm", "catch_up"),
    (
        "catch_up_from_last_dose",
        _set("reminder_7_days", catch_up="last_dose+1d"),
        "reminder_7_days",
        "catch_up",
    ),
    (
        "reminder_moving_later",
        _set("reminder_day_before", quiet_move="later"),
        "reminder_day_before",
        "quiet_move",
    ),
    (
        "reminder_that_could_come_after_the_start",
        _drop("reminder_morning_of", "not_after"),
        "reminder_morning_of",
        "not_after",
    ),
    (
        "reminder_with_a_floor",
        _set("reminder_7_days", not_before="start-8d"),
        "reminder_7_days",
        "not_before",
    ),
    (
        "check_in_moving_earlier",
        _set("check_in_evening", quiet_move="earlier"),
        "check_in_evening",
        "quiet_move",
    ),
    (
        "check_in_that_could_come_before_the_end",
        _drop("check_in_evening", "not_before"),
        "check_in_evening",
        "not_before",
    ),
    ("check_in_with_a_cap", _set("check_in_evening", not_after="end+5h"), "check_in_evening", "not_after"),
    ("unknown_quiet_move", _set("dose_confirm", quiet_move="drop"), "dose_confirm", "quiet_move"),
    ("duplicate_id", _set("reminder_day_before", id="reminder_7_days"), "reminder_7_days", "id"),
    ("id_not_snake_case", _set("reminder_day_before", id="Day Before"), "Day Before", "id"),
    (
        "booking_nudge_timed_from_an_appointment",
        _set("booking_nudge", anchor="start"),
        "booking_nudge",
        "anchor",
    ),
    (
        "reminder_timed_from_last_dose",
        _set("reminder_7_days", anchor="last_dose"),
        "reminder_7_days",
        "anchor",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "touchpoint", "field"), [row[1:] for row in BAD_PLANS], ids=[row[0] for row in BAD_PLANS]
)
def test_a_bad_plan_is_refused_naming_the_touchpoint_and_field(
    mutate: Callable[[dict[str, Any]], None], touchpoint: str | None, field: str
) -> None:
    data = copy.deepcopy(DEFAULT)
    mutate(data)
    with pytest.raises(PlanError) as raised:
        plan_from_mapping(data, "test.toml")
    assert (raised.value.touchpoint, raised.value.field) == (touchpoint, field)
    assert f"field {field!r}" in str(raised.value) and "test.toml" in str(raised.value)
    if touchpoint is not None:
        assert f"touchpoint {touchpoint!r}" in str(raised.value)


def test_the_unmodified_default_plan_passes_the_same_validation() -> None:
    assert isinstance(plan_from_mapping(copy.deepcopy(DEFAULT)), ReminderPlan)
