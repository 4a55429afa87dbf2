"""Working days from the official 2026 arrangement (State Council), and the fallback after it."""

from __future__ import annotations

import logging
from datetime import date

import pytest

from ivr.domain import workdays
from ivr.domain.workdays import add_working_days, calendar_covers, is_working_day


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 1, 1), False),  # New Year's Day, Thursday
        (date(2026, 1, 2), False),  # Friday, part of the New Year break
        (date(2026, 1, 4), True),  # Sunday, make-up working day
        (date(2026, 2, 14), True),  # Saturday, make-up day before Spring Festival
        (date(2026, 2, 16), False),  # Monday, Spring Festival
        (date(2026, 2, 23), False),  # Monday, last day of Spring Festival
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),  # Saturday, make-up day after Spring Festival
        (date(2026, 9, 20), True),  # Sunday, make-up day for National Day
        (date(2026, 9, 25), False),  # Friday, Mid-autumn Festival
        (date(2026, 9, 26), False),  # an ordinary Saturday
        (date(2026, 10, 1), False),
        (date(2026, 10, 7), False),  # Wednesday, National Day week
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # Saturday, make-up day for National Day
        (date(2026, 10, 11), False),
        (date(2026, 3, 3), True),  # an ordinary Tuesday
    ],
)
def test_2026_calendar(day: date, working: bool) -> None:
    assert is_working_day(day) is working


def test_add_working_days_across_national_day_2026() -> None:
    # 28, 29, 30 Sep; 8, 9, 10 (Saturday make-up), 12-16, 19-22 Oct.
    assert add_working_days(date(2026, 9, 25), 15) == date(2026, 10, 22)
    assert add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert add_working_days(date(2026, 10, 9), 1) == date(2026, 10, 10)


def test_add_working_days_across_spring_festival_2026() -> None:
    assert add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert add_working_days(date(2026, 2, 14), 1) == date(2026, 2, 24)
    assert add_working_days(date(2026, 2, 13), 6) == date(2026, 2, 28)


def test_add_working_days_edges() -> None:
    assert add_working_days(date(2026, 10, 3), 0) == date(2026, 10, 3)
    assert add_working_days(date(2025, 12, 31), 1) == date(2026, 1, 4)
    with pytest.raises(ValueError):
        add_working_days(date(2026, 1, 1), -1)


def test_calendar_covers() -> None:
    assert calendar_covers(date(2026, 12, 31))
    assert calendar_covers(date(2004, 1, 1))
    assert not calendar_covers(date(2099, 1, 1))
    assert not calendar_covers(date(2003, 12, 31))


def test_fallback_is_monday_to_friday_with_one_warning_per_year(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workdays, "_warned_years", set())
    with caplog.at_level(logging.WARNING, logger=workdays.__name__):
        assert is_working_day(date(2099, 1, 2))  # Friday
        assert not is_working_day(date(2099, 1, 3))  # Saturday
        assert add_working_days(date(2099, 1, 2), 1) == date(2099, 1, 5)
        assert is_working_day(date(2098, 1, 1))  # Wednesday, another year
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.args for r in warnings] == [(2099,), (2098,)]
