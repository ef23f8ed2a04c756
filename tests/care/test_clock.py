"""The clock port: the fake moves only when told, and nothing naive gets in."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from care.clock import Clock, FakeClock, SystemClock
from tests.care.strategies import wall

START = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


def test_fake_clock_stands_still_until_advanced() -> None:
    clock = FakeClock(START)
    assert clock.now() == clock.now() == START
    assert clock.advance(timedelta(hours=2)) == START + timedelta(hours=2)
    assert clock.now() == START + timedelta(hours=2)


def test_fake_clock_reports_aware_utc_even_when_started_in_another_offset() -> None:
    clock = FakeClock(datetime(2027, 1, 4, 10, 0, tzinfo=timezone(timedelta(hours=1))))
    assert clock.now() == START
    assert clock.now().tzinfo is UTC


def test_fake_clock_can_be_set_back_but_not_advanced_backwards() -> None:
    clock = FakeClock(START)
    assert clock.set(START - timedelta(days=1)) == START - timedelta(days=1)
    with pytest.raises(ValueError, match="forward"):
        clock.advance(timedelta(seconds=-1))


@pytest.mark.parametrize("action", ["start", "set"])
def test_fake_clock_rejects_naive_datetimes(action: str) -> None:
    naive = wall(2027, 1, 4, 9, 0)
    with pytest.raises(ValueError, match="naive"):
        if action == "start":
            FakeClock(naive)
        else:
            FakeClock(START).set(naive)


def test_system_clock_tells_aware_utc_time() -> None:
    clock: Clock = SystemClock()
    before = datetime.now(UTC)
    now = clock.now()
    assert now.tzinfo is UTC
    assert before <= now <= datetime.now(UTC)


def test_both_clocks_satisfy_the_clock_protocol() -> None:
    clocks: list[Clock] = [FakeClock(START), SystemClock()]
    assert all(clock.now().utcoffset() == timedelta(0) for clock in clocks)
