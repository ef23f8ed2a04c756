"""Reading appointment dates from free text, and checking them against the label, as named tables."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.dialog.appointment_entry import assess
from bot.dialog.dates import DateParseError, DateProblem, parse_time, parse_when, reads_month_first
from care.appointment_check import ScheduleIssue
from care.formulation import Formulation

TODAY = date(2026, 11, 26)  # a Thursday
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
MADRID = ZoneInfo("Europe/Madrid")


@pytest.mark.parametrize(
    ("text", "month_first", "expected"),
    [
        ("12 March 9:30", False, (date(2027, 3, 12), time(9, 30))),
        ("March 12th, 2027 at 3 pm", False, (date(2027, 3, 12), time(15, 0))),
        ("next Tuesday 10am", False, (date(2026, 12, 1), time(10, 0))),
        ("tuesday", False, (date(2026, 12, 1), None)),
        ("tomorrow at 8:15", False, (date(2026, 11, 27), time(8, 15))),
        ("in 2 weeks", False, (date(2026, 12, 10), None)),
        ("2027-03-12 09:30", False, (date(2027, 3, 12), time(9, 30))),
        ("2027-03-12T09:30", False, (date(2027, 3, 12), time(9, 30))),
        ("12/03", False, (date(2027, 3, 12), None)),
        ("12/03", True, (date(2026, 12, 3), None)),
        ("03/12/2027 9:00", True, (date(2027, 3, 12), time(9, 0))),
        ("12.03.27", False, (date(2027, 3, 12), None)),
        ("12 March 10.30", False, (date(2027, 3, 12), time(10, 30))),
        ("4 jan 10:30pm", False, (date(2027, 1, 4), time(22, 30))),
        ("12 de marzo 9:30", False, (date(2027, 3, 12), time(9, 30))),
        ("el 3 de marzo a las 9 de la mañana", False, (date(2027, 3, 3), time(9, 0))),
        ("el martes que viene a las 10", False, (date(2026, 12, 1), time(10, 0))),
        ("el próximo lunes a las 8.15", False, (date(2026, 11, 30), time(8, 15))),
        ("mañana a las 4 de la tarde", False, (date(2026, 11, 27), time(16, 0))),
        ("pasado mañana 13:00h", False, (date(2026, 11, 28), time(13, 0))),
        ("20 de marzo de 2027 a las 16:00", False, (date(2027, 3, 20), time(16, 0))),
        ("29 feb", False, (date(2028, 2, 29), None)),
    ],
    ids=[
        "en_day_month_time",
        "en_month_day_ordinal_year_pm",
        "en_next_weekday_am",
        "en_bare_weekday",
        "en_tomorrow",
        "en_in_two_weeks",
        "iso_space",
        "iso_t",
        "numeric_day_first",
        "numeric_month_first_en_us",
        "numeric_month_first_with_year",
        "numeric_dots_short_year",
        "dotted_time_with_named_month",
        "en_abbreviated_month_pm",
        "es_de_marzo",
        "es_de_la_manana",
        "es_martes_que_viene",
        "es_proximo_lunes_dotted_time",
        "es_manana_de_la_tarde",
        "es_pasado_manana",
        "es_full_year",
        "leap_day_rolls_to_next_leap_year",
    ],
)
def test_free_text_dates_read_as_the_patient_means_them(
    text: str, month_first: bool, expected: tuple[date, time | None]
) -> None:
    parsed = parse_when(text, today=TODAY, month_first=month_first)
    assert (parsed.day, parsed.at) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("31 February", DateProblem.IMPOSSIBLE),
        ("30 de febrero", DateProblem.IMPOSSIBLE),
        ("12/13", DateProblem.IMPOSSIBLE),
        ("2027-02-29", DateProblem.IMPOSSIBLE),
        ("tomorrow 25:00", DateProblem.IMPOSSIBLE),
        ("13pm friday", DateProblem.IMPOSSIBLE),
        ("at 10", DateProblem.NO_DATE),
        ("whenever the clinic calls", DateProblem.UNREADABLE),
        ("no sé", DateProblem.UNREADABLE),
    ],
    ids=[
        "en_31_february",
        "es_30_febrero",
        "month_13",
        "not_a_leap_year",
        "hour_25",
        "13_pm",
        "time_without_day",
        "en_no_date",
        "es_no_date",
    ],
)
def test_impossible_or_missing_dates_say_why(text: str, problem: DateProblem) -> None:
    with pytest.raises(DateParseError) as caught:
        parse_when(text, today=TODAY, month_first=False)
    assert caught.value.problem is problem


def test_a_past_dose_without_a_year_is_the_last_one_gone() -> None:
    assert parse_when("12 March", today=TODAY, month_first=False, prefer="past").day == date(2026, 3, 12)
    assert parse_when("last tuesday", today=TODAY, month_first=False, prefer="past").day == date(2026, 11, 24)
    assert parse_when("el martes pasado", today=TODAY, month_first=False, prefer="past").day == date(
        2026, 11, 24
    )


def test_times_alone() -> None:
    assert parse_time("2pm") == time(14, 0)
    assert parse_time("a las 9:45") == time(9, 45)
    assert parse_time("mediodía") == time(12, 0)
    assert parse_time("hello") is None


@pytest.mark.parametrize(
    ("language", "country", "month_first"),
    [
        ("en", "US", True),
        ("en", "PH", True),
        ("es", "US", False),
        ("en", "GB", False),
        ("es", "MX", False),
        ("en", "CA", False),
        ("en", None, False),
    ],
    ids=["en_us", "en_ph", "es_us", "en_gb", "es_mx", "en_ca_iso", "en_no_country"],
)
def test_numeric_dates_follow_the_patients_locale(
    language: str, country: str | None, month_first: bool
) -> None:
    assert reads_month_first(language, country) is month_first


LAST_SIX_MONTHLY = [datetime(2026, 4, 1, 8, tzinfo=UTC), datetime(2026, 10, 1, 8, tzinfo=UTC)]  # IV doses...
IV_SIX_MONTHLY = [datetime(2026, 3, 18, 8, tzinfo=UTC), *LAST_SIX_MONTHLY]  # ...with Infusion 1 padded before
INFUSION_1 = [datetime(2026, 11, 20, 9, tzinfo=UTC)]


@pytest.mark.parametrize(
    ("text", "given", "outcome"),
    [
        ("12 April 2027 9:30", IV_SIX_MONTHLY, "accepted"),
        ("2026-01-10 10:00", [], ScheduleIssue.IN_PAST),
        ("today 9:00", [], ScheduleIssue.IN_PAST),
        ("31 February 9:00", [], DateProblem.IMPOSSIBLE),
        ("12 March 2028 9:00", [], ScheduleIssue.BEYOND_WINDOW),
        ("10 January 9:00", IV_SIX_MONTHLY, ScheduleIssue.UNDER_MINIMUM_INTERVAL),
        ("el 10 de enero a las 9", IV_SIX_MONTHLY, ScheduleIssue.UNDER_MINIMUM_INTERVAL),
        ("4 December 9:00", INFUSION_1, "accepted"),
        ("10 December 9:00", INFUSION_1, ScheduleIssue.INFUSION_2_NOT_14_DAYS),
        ("12 March", [], "needs_time"),
    ],
    ids=[
        "on_schedule",
        "past_year",
        "earlier_today",
        "impossible",
        "out_of_window",
        "five_month_warning_en",
        "five_month_warning_es",
        "infusion_2_on_day_15",
        "infusion_2_late_warning",
        "date_without_time",
    ],
)
def test_appointments_are_checked_against_the_label(
    text: str, given: list[datetime], outcome: object
) -> None:
    found = assess(text, formulation=Formulation.IV, given=given, tz=MADRID, now=NOW, month_first=False)
    if outcome == "accepted":
        assert found.starts_at is not None and found.error is None and not found.warnings
    elif outcome == "needs_time":
        assert (found.day, found.starts_at) == (date(2027, 3, 12), None)
    elif isinstance(outcome, DateProblem):
        assert found.problem is outcome
    elif outcome in (ScheduleIssue.UNDER_MINIMUM_INTERVAL, ScheduleIssue.INFUSION_2_NOT_14_DAYS):
        assert [warning.code for warning in found.warnings] == [outcome] and found.error is None
    else:
        assert found.error is not None and found.error.code is outcome
