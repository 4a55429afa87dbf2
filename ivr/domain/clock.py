"""Times as the console shows them: China Standard Time (UTC+8 all year, no daylight saving).

The store keeps UTC; a supervisor thinks in local days and hours, so date filters and labels are
converted here, in one place.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

__all__ = ["CST", "day_bounds", "duration", "local", "local_now", "local_today", "stamp"]

CST = timezone(timedelta(hours=8), "CST")


def local_now() -> datetime:
    return datetime.now(CST)


def local_today() -> date:
    return local_now().date()


def local(moment: datetime) -> datetime:
    return moment.astimezone(CST)


def day_bounds(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """``[first 00:00, the day after last 00:00)`` in local time, as UTC datetimes."""
    start = datetime.combine(first, time(0), CST).astimezone(UTC) if first else None
    end = datetime.combine(last + timedelta(days=1), time(0), CST).astimezone(UTC) if last else None
    return start, end


def stamp(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    return "" if moment is None else local(moment).strftime(fmt)


def duration(seconds: float | None) -> str:
    """``1:05`` or ``1:02:03``; empty for no value."""
    if seconds is None:
        return ""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
