"""Chinese working days: public holidays and make-up working days (调休).

Each autumn the State Council publishes the next year's schedule: which days are off around each
holiday, and which weekend days are worked instead. No rule predicts it, so it is data: the
schedule file shipped with the hotline (``data/official-holidays.yaml``) and, optionally, the
operator's own (``<data dir>/official-holidays.yaml``), whose years replace the shipped ones. A
year that neither file has falls back to the ``holidays`` package's China calendar: the statutory
holidays by rule (the Spring Festival from the lunar calendar, a holiday on a weekend moved to the
next working day), but none of the bridging days and make-up working days only the schedule
knows. Such a year logs one warning when first used, and the start-up warns when the coming
``COVERAGE_DAYS`` days are not all covered.

The calendar is read once, at start-up (``open_calendar``, by the composition root), and given to
whatever counts working days (the counter's formal report, the demo seed): no global holds it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ivr.resources import SHIPPED_DATA

if TYPE_CHECKING:
    from holidays import HolidayBase

__all__ = [
    "COVERAGE_DAYS",
    "SCHEDULE_NAME",
    "SHIPPED_SCHEDULE",
    "OfficialYear",
    "ScheduleError",
    "WorkCalendar",
    "load_calendar",
    "open_calendar",
    "parse_schedule",
    "shipped_calendar",
]

log = logging.getLogger(__name__)

SCHEDULE_NAME = "official-holidays.yaml"
SHIPPED_SCHEDULE = SHIPPED_DATA / SCHEDULE_NAME
# The re-issue date is 15 working days (three weeks) on, the provisional report lapses after 10
# days: two months ahead covers both with room for the Spring Festival.
COVERAGE_DAYS = 60
_RANGE = re.compile(r"\s*(\d{4}-\d{2}-\d{2})\s*(?:\.\.\s*(\d{4}-\d{2}-\d{2}))?\s*")
_LONGEST_BREAK = 15  # days: a longer holiday is a typing error


class ScheduleError(ValueError):
    """A schedule file that cannot be the State Council's: what is wrong and where."""


@dataclass(frozen=True)
class OfficialYear:
    """One year's schedule as the State Council published it."""

    year: int
    notice: str
    days_off: frozenset[date]
    working_days: frozenset[date]  # make-up working days: weekend days worked


def _days(value: Any, where: str) -> list[date]:
    """A date, or ``first..last`` (every day between, both included)."""
    if isinstance(value, date):
        return [value]
    match = _RANGE.fullmatch(str(value))
    if not match:
        raise ScheduleError(f"{where}: {value!r} is not a date or a range first..last")
    first = date.fromisoformat(match.group(1))
    last = date.fromisoformat(match.group(2) or match.group(1))
    if not 0 <= (last - first).days < _LONGEST_BREAK:
        raise ScheduleError(f"{where}: {value!r} is not a holiday break")
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _parse_year(year: int, entry: Mapping[str, Any], where: str) -> OfficialYear:
    unknown = set(entry) - {"notice", "holidays", "working_days"}
    if unknown:
        raise ScheduleError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    days_off: set[date] = set()
    for name, value in (entry.get("holidays") or {}).items():
        days_off.update(_days(value, f"{where} {name}"))
    working: set[date] = set()
    for value in entry.get("working_days") or []:
        working.update(_days(value, f"{where} working_days"))
    for day in sorted(days_off | working):
        if abs(day.year - year) > 1 or (day.year != year and day.month not in (1, 12)):
            raise ScheduleError(f"{where}: {day} is not in or next to {year}")
    if both := sorted(days_off & working):
        raise ScheduleError(f"{where}: {both[0]} is both a holiday and a working day")
    if weekdays := [day for day in sorted(working) if day.weekday() < 5]:
        raise ScheduleError(f"{where}: make-up working day {weekdays[0]} is not a weekend day")
    return OfficialYear(year, str(entry.get("notice", "")), frozenset(days_off), frozenset(working))


def parse_schedule(data: Mapping[Any, Any], source: str = "schedule") -> dict[int, OfficialYear]:
    """The years of one schedule file (already read as YAML), checked."""
    years: dict[int, OfficialYear] = {}
    for key, entry in (data or {}).items():
        if not str(key).isdigit() or not isinstance(entry, Mapping):
            raise ScheduleError(f"{source}: {key!r} is not a year with its schedule")
        years[int(key)] = _parse_year(int(key), entry, f"{source} {key}")
    return years


@dataclass
class WorkCalendar:
    """Working days from the official schedules, and by rule for the years they do not have."""

    official: Mapping[int, OfficialYear] = field(default_factory=dict)
    _off: frozenset[date] = field(init=False, repr=False)
    _worked: frozenset[date] = field(init=False, repr=False)
    _rule_based: dict[int, HolidayBase] = field(default_factory=dict, repr=False)
    _warned: set[int] = field(default_factory=set, repr=False)

    def __post_init__(self) -> None:
        self._off = frozenset(d for y in self.official.values() for d in y.days_off)
        self._worked = frozenset(d for y in self.official.values() for d in y.working_days)

    def covers(self, day: date) -> bool:
        """Whether ``day``'s year has an official schedule."""
        return day.year in self.official

    def uncovered_years(self, first: date, days: int) -> list[int]:
        """The years without an official schedule among ``days`` days from ``first``."""
        last = first + timedelta(days=days)
        return [year for year in range(first.year, last.year + 1) if year not in self.official]

    def is_working_day(self, day: date) -> bool:
        if self.covers(day):
            if day in self._off or day in self._worked:
                return day in self._worked
            return day.weekday() < 5
        return self._by_rule(day.year).is_working_day(day)

    def add_working_days(self, start: date, count: int) -> date:
        """The ``count``-th working day after ``start`` (``start`` itself is never counted)."""
        if count < 0:
            raise ValueError("count must not be negative")
        day = start
        while count:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count -= 1
        return day

    def _by_rule(self, year: int) -> HolidayBase:
        if year not in self._rule_based:
            if year not in self._warned:
                self._warned.add(year)
                log.warning(
                    "no official holiday schedule for %d: working days estimated from the "
                    "statutory holidays, without the State Council's bridging days and make-up "
                    "working days; add that year's schedule to %s",
                    year,
                    SCHEDULE_NAME,
                )
            from holidays import country_holidays  # slow to import: only when a year needs it

            self._rule_based[year] = country_holidays("CN", years=year)
        return self._rule_based[year]


def load_calendar(files: Iterable[Path]) -> WorkCalendar:
    """Blocking (files): the schedules of ``files`` that exist; a later file's years win."""
    import yaml  # slow to import: only where a schedule is read (not for `hotline calls`)

    official: dict[int, OfficialYear] = {}
    for path in files:
        if path.is_file():
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            official.update(parse_schedule(data, str(path)))
    return WorkCalendar(official)


def _shipped_schedule() -> Path:
    """The shipped schedule, which must be there: without it every year would be estimated by
    rule, silently wrong around each holiday (an installation that lost it is broken)."""
    if not SHIPPED_SCHEDULE.is_file():
        raise FileNotFoundError(f"the shipped holiday schedule {SHIPPED_SCHEDULE} is missing")
    return SHIPPED_SCHEDULE


def shipped_calendar() -> WorkCalendar:
    """Blocking (a file): the calendar of the shipped schedule alone (tests, tools)."""
    return load_calendar([_shipped_schedule()])


def open_calendar(operator_file: Path, today: date) -> WorkCalendar:
    """Blocking: at start-up, the shipped and the operator's schedules as one calendar; a warning
    when the coming ``COVERAGE_DAYS`` days are not all covered."""
    calendar = load_calendar([_shipped_schedule(), operator_file])
    missing = calendar.uncovered_years(today, COVERAGE_DAYS)
    if missing:
        log.warning(
            "the official holiday schedule of %s is not known: working days (re-issue dates) "
            "in the next %d days are estimated by rule; when the State Council publishes it, "
            "add it to %s (see the README, Configuration)",
            ", ".join(map(str, missing)),
            COVERAGE_DAYS,
            operator_file,
        )
    return calendar
