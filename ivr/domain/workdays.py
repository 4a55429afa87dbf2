"""Chinese working days: public holidays and make-up working weekends, from ``chinese_calendar``.

The State Council publishes each year's arrangement in the autumn before, so the package covers a
fixed range of years (2004-2026 in chinesecalendar 1.11). Outside it we fall back to Monday-Friday,
which is wrong around holidays: one warning per year says so, and upgrading the package fixes it.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

import chinese_calendar

__all__ = ["add_working_days", "calendar_covers", "is_working_day"]

log = logging.getLogger(__name__)
_warned_years: set[int] = set()


def calendar_covers(day: date) -> bool:
    """True when the package knows the official arrangement for ``day``'s year."""
    try:
        chinese_calendar.is_workday(day)
    except NotImplementedError:
        return False
    return True


def is_working_day(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            log.warning(
                "no official holiday calendar for %d: counting Monday-Friday as working days "
                "(upgrade chinesecalendar)",
                day.year,
            )
        return day.weekday() < 5


def add_working_days(start: date, count: int) -> date:
    """The ``count``-th working day after ``start`` (``start`` itself is never counted)."""
    if count < 0:
        raise ValueError("count must not be negative")
    day = start
    while count:
        day += timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day
