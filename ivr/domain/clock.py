"""Beijing time: the one time zone of both hotlines, and times as people there read them.

China Standard Time is UTC+8 all year (no daylight saving time since 1991). The store keeps UTC;
callers, counter staff and supervisors think in local days and hours, so dates callers hear, date
filters, statistics buckets and shown times are all converted with the zone defined here.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone

__all__ = [
    "BEIJING",
    "DAY_PATTERN",
    "FIRST_DAY",
    "LAST_DAY",
    "UTC_OFFSET",
    "ZONE_NAME",
    "day_bounds",
    "local",
    "local_now",
    "local_today",
    "parse_day",
    "stamp",
]

UTC_OFFSET = timedelta(hours=8)
BEIJING = timezone(UTC_OFFSET, "CST")
ZONE_NAME = "Asia/Shanghai"  # its IANA name, for those that take one (PostgreSQL)
# The days a person may type (a filter, a period): a day's bounds, and a week around it, are then
# datetimes in every zone, which they are not near the first and last days Python knows.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)
DAY_PATTERN = r"(19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}"  # YYYY-MM-DD of those years (OpenAPI)
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def local_now() -> datetime:
    return datetime.now(BEIJING)


def local_today() -> date:
    return local_now().date()


def local(moment: datetime) -> datetime:
    return moment.astimezone(BEIJING)


def parse_day(text: str) -> date:
    """A local day written ``YYYY-MM-DD``, from ``FIRST_DAY`` to ``LAST_DAY``; else ValueError
    (its message says what is expected, and is safe to show)."""
    try:
        day = date.fromisoformat(text) if _DAY.fullmatch(text) else None
    except ValueError:  # 2025-02-30
        day = None
    if day is None:
        raise ValueError("a date is written YYYY-MM-DD")
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"a date is from {FIRST_DAY} to {LAST_DAY}")
    return day


def day_bounds(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """``[first 00:00, the day after last 00:00)`` in local time, as UTC datetimes."""
    start = datetime.combine(first, time(0), BEIJING).astimezone(UTC) if first else None
    end = (
        datetime.combine(last + timedelta(days=1), time(0), BEIJING).astimezone(UTC)
        if last
        else None
    )
    return start, end


def stamp(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A moment as local time (empty for none), e.g. ``2025-03-03 09:00:00``."""
    return "" if moment is None else local(moment).strftime(fmt)
