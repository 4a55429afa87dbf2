"""Days people type: read strictly, within the days whose bounds the clock can give."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from ivr.domain.clock import DAY_PATTERN, FIRST_DAY, LAST_DAY, day_bounds, parse_day


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
    with pytest.raises(ValueError, match="a date is written YYYY-MM-DD"):
        parse_day(text)


def test_the_pattern_the_api_describes_takes_the_same_years() -> None:
    pattern = re.compile(DAY_PATTERN)
    assert pattern.fullmatch(FIRST_DAY.isoformat()) and pattern.fullmatch(LAST_DAY.isoformat())
    for outside in (FIRST_DAY - timedelta(days=1), LAST_DAY + timedelta(days=1)):
        assert not pattern.fullmatch(outside.isoformat())
