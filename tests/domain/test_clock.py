"""Days people type: read strictly, within the days whose bounds the clock can give."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ivr.domain.clock import (
    BEIJING,
    DAY_PATTERN,
    FIRST_DAY,
    LAST_DAY,
    UTC_OFFSET,
    ZONE_NAME,
    day_bounds,
    local,
    local_now,
    local_today,
    parse_day,
    stamp,
)


def test_every_day_in_range_has_bounds_and_the_next_ones_out_of_range_are_refused() -> None:
    for day in (FIRST_DAY, LAST_DAY):
        assert parse_day(day.isoformat()) == day
        start, end = day_bounds(day - timedelta(days=7), day + timedelta(days=7))
        assert start is not None and end is not None and start < end
    for outside in (FIRST_DAY - timedelta(days=1), LAST_DAY + timedelta(days=1)):
        with pytest.raises(ValueError, match=f"from {FIRST_DAY} to {LAST_DAY}"):
            parse_day(outside.isoformat())


@pytest.mark.parametrize("text", ["0001-01-01", "9999-12-31", "1899-12-31", "3000-01-01"])
def test_far_days_are_refused_with_the_range(text: str) -> None:
    with pytest.raises(ValueError, match="a date is from 1900-01-01 to 2999-12-31"):
        parse_day(text)


@pytest.mark.parametrize(
    "text", ["2025-02-30", "20250301", "2025-W01-1", "2025-3-1", " 2025-03-01", "２０２５-03-01"]
)
def test_only_real_days_written_yyyy_mm_dd_are_read(text: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_day(text)
    assert str(refused.value) == "a date is written YYYY-MM-DD"  # shown to the console user


def test_the_pattern_the_api_describes_takes_the_same_years() -> None:
    pattern = re.compile(DAY_PATTERN)
    assert pattern.fullmatch(FIRST_DAY.isoformat()) and pattern.fullmatch(LAST_DAY.isoformat())
    for outside in (FIRST_DAY - timedelta(days=1), LAST_DAY + timedelta(days=1)):
        assert not pattern.fullmatch(outside.isoformat())


def test_a_local_day_runs_from_midnight_to_midnight_beijing_time() -> None:
    assert day_bounds(date(2026, 3, 2), date(2026, 3, 3)) == (
        datetime(2026, 3, 1, 16, 0, tzinfo=UTC),
        datetime(2026, 3, 3, 16, 0, tzinfo=UTC),
    )
    assert day_bounds(date(2026, 3, 2), None) == (datetime(2026, 3, 1, 16, 0, tzinfo=UTC), None)
    assert day_bounds(None, date(2026, 3, 2)) == (None, datetime(2026, 3, 2, 16, 0, tzinfo=UTC))
    assert day_bounds(None, None) == (None, None)
    # UTC itself, whatever the machine's zone: the store compares them with UTC times.
    assert all(bound.tzinfo is UTC for bound in day_bounds(date(2026, 3, 2), date(2026, 3, 3)))


def test_moments_are_shown_in_beijing_time() -> None:
    moment = datetime(2025, 3, 2, 17, 30, 5, tzinfo=UTC)
    assert stamp(moment) == "2025-03-03 01:30:05"
    assert stamp(moment, "%H:%M %Z") == "01:30 CST"
    assert stamp(None) == ""
    assert local(moment) == moment and local(moment).utcoffset() == timedelta(hours=8)


def test_now_and_today_are_beijing_time() -> None:
    before = datetime.now(UTC)
    now = local_now()
    assert now.utcoffset() == UTC_OFFSET == timedelta(hours=8)
    assert before <= now <= datetime.now(UTC)
    assert local_today() in {(before + UTC_OFFSET).date(), (datetime.now(UTC) + UTC_OFFSET).date()}


def test_the_zone_name_given_to_others_is_the_same_zone() -> None:
    for moment in (datetime(2026, 1, 15, 12), datetime(2026, 7, 15, 12)):  # no summer time
        assert ZoneInfo(ZONE_NAME).utcoffset(moment) == BEIJING.utcoffset(moment) == UTC_OFFSET
