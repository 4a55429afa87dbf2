"""Working days: the State Council's schedules (shipped and the operator's), the rule-based
calendar for a year without one (2027's Spring Festival), and the start-up warning."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from holidays import country_holidays

from ivr.domain import workdays
from ivr.domain.cards import pickup_date
from ivr.domain.workdays import (
    SHIPPED_SCHEDULE,
    ScheduleError,
    WorkCalendar,
    load_calendar,
    open_calendar,
    parse_schedule,
    shipped_calendar,
)

# Not the real 2027 schedule (unknown when this was written): a plausible one, to show that an
# operator's schedule wins over the estimate by rule.
OPERATOR_2027 = """\
2027:
  notice: a schedule for the test
  holidays:
    元旦: 2027-01-01..2027-01-03
    春节: 2027-02-05..2027-02-13
  working_days:
    - 2027-01-31
    - 2027-02-20
"""


SHIPPED = shipped_calendar()


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
    assert SHIPPED.is_working_day(day) is working


def test_add_working_days_across_national_day_2026() -> None:
    # 28, 29, 30 Sep; 8, 9, 10 (Saturday make-up), 12-16, 19-22 Oct.
    assert SHIPPED.add_working_days(date(2026, 9, 25), 15) == date(2026, 10, 22)
    assert SHIPPED.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert SHIPPED.add_working_days(date(2026, 10, 9), 1) == date(2026, 10, 10)


def test_add_working_days_across_spring_festival_2026() -> None:
    assert SHIPPED.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert SHIPPED.add_working_days(date(2026, 2, 14), 1) == date(2026, 2, 24)
    assert SHIPPED.add_working_days(date(2026, 2, 13), 6) == date(2026, 2, 28)


def test_add_working_days_edges() -> None:
    assert SHIPPED.add_working_days(date(2026, 10, 3), 0) == date(2026, 10, 3)
    assert SHIPPED.add_working_days(date(2025, 12, 31), 1) == date(2026, 1, 4)
    with pytest.raises(ValueError):
        SHIPPED.add_working_days(date(2026, 1, 1), -1)


def test_the_reissue_date_of_a_formal_report_skips_the_2027_spring_festival(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # No official 2027 schedule yet: the Spring Festival by rule (the eve 5 February, the first
    # three days 6-8 February, the weekend days moved to 9 and 10 February) is still skipped:
    # 29 Jan; 1-4, 11, 12, 15-19, 22-24 Feb. Monday to Friday alone would give 18 February.
    # A calendar of its own: the shared one warns once per process, whichever test used it first.
    calendar = shipped_calendar()
    with caplog.at_level(logging.WARNING, logger=workdays.__name__):
        assert pickup_date(date(2027, 1, 28), calendar, 15) == date(2027, 2, 24)
    for day in (date(2027, 2, 5), date(2027, 2, 8), date(2027, 2, 9), date(2027, 2, 10)):
        assert not calendar.is_working_day(day), day
    assert calendar.is_working_day(date(2027, 2, 11))
    assert [r.args[0] for r in caplog.records if r.args] == [2027]  # the log says it guessed


def test_an_operator_schedule_for_2027_wins_over_the_rule(tmp_path: Path) -> None:
    operator = tmp_path / "official-holidays.yaml"
    operator.write_text(OPERATOR_2027, encoding="utf-8")
    calendar = open_calendar(operator, date(2026, 11, 30))
    # 29 Jan, 31 Jan (Sunday, worked), 1-4 Feb; 15-19, 20 (Saturday, worked), 22-24 Feb.
    assert pickup_date(date(2027, 1, 28), calendar, 15) == date(2027, 2, 24)
    assert pickup_date(date(2027, 1, 28), calendar, 6) == date(2027, 2, 4)
    assert pickup_date(date(2027, 1, 28), calendar, 7) == date(2027, 2, 15)
    assert calendar.is_working_day(date(2027, 1, 31))
    assert not calendar.is_working_day(date(2027, 2, 12))
    assert calendar.covers(date(2027, 6, 1)) and not SHIPPED.covers(date(2027, 6, 1))


def test_an_operator_year_replaces_the_shipped_one(tmp_path: Path) -> None:
    operator = tmp_path / "official-holidays.yaml"
    operator.write_text(
        "2026:\n  notice: corrected\n  holidays:\n    国庆节: 2026-10-01..2026-10-08\n",
        encoding="utf-8",
    )
    calendar = open_calendar(operator, date(2026, 6, 1))
    assert not calendar.is_working_day(date(2026, 10, 8))
    assert not calendar.is_working_day(date(2026, 10, 10))  # the shipped make-up day went too
    assert calendar.is_working_day(date(2026, 2, 16))  # the whole year replaced: no Spring Festival


def test_start_up_warns_when_the_coming_60_days_are_not_covered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    absent = tmp_path / "official-holidays.yaml"
    with caplog.at_level(logging.WARNING, logger=workdays.__name__):
        open_calendar(absent, date(2026, 6, 1))  # through 31 July: covered
        assert caplog.records == []
        open_calendar(absent, date(2026, 11, 30))  # into January 2027: not covered
    (warning,) = caplog.records
    assert "2027" in warning.getMessage() and str(absent) in warning.getMessage()
    caplog.clear()
    absent.write_text(OPERATOR_2027, encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger=workdays.__name__):
        open_calendar(absent, date(2026, 11, 30))
    assert caplog.records == []


def test_a_missing_shipped_schedule_stops_the_start_instead_of_guessing_every_year(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An installation that lost the shipped file (a wheel without its data) would otherwise
    estimate 2025 and 2026 by rule as well: re-issue dates wrong around each holiday."""
    monkeypatch.setattr(workdays, "SHIPPED_SCHEDULE", tmp_path / "lost" / workdays.SCHEDULE_NAME)
    operator = tmp_path / "official-holidays.yaml"
    operator.write_text(OPERATOR_2027, encoding="utf-8")
    with pytest.raises(FileNotFoundError, match="shipped holiday schedule"):
        open_calendar(operator, date(2026, 6, 1))
    with pytest.raises(FileNotFoundError, match="shipped holiday schedule"):
        shipped_calendar()


def test_the_warnings_name_every_year_missing_and_the_file_to_add_it_to(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    absent = tmp_path / "official-holidays.yaml"
    with caplog.at_level(logging.WARNING, logger=workdays.__name__):
        open_calendar(absent, date(2027, 12, 15))  # into 2028: two years unknown
    (warning,) = caplog.records
    assert warning.getMessage().startswith("the official holiday schedule of 2027, 2028 is not")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=workdays.__name__):
        WorkCalendar().is_working_day(date(2099, 1, 2))
    (warning,) = caplog.records
    assert warning.getMessage().startswith("no official holiday schedule for 2099:")
    assert warning.getMessage().endswith("add that year's schedule to official-holidays.yaml")


def test_calendar_covers_the_years_with_an_official_schedule() -> None:
    assert SHIPPED.covers(date(2026, 12, 31))
    assert SHIPPED.covers(date(2025, 1, 1))
    assert not SHIPPED.covers(date(2027, 1, 1))
    assert not SHIPPED.covers(date(2099, 1, 1))


def test_the_shipped_schedule_agrees_with_the_holidays_package() -> None:
    """An independent record of the same notices: a typing error in the file shows here."""
    shipped = load_calendar([SHIPPED_SCHEDULE])
    for year in shipped.official:
        package = country_holidays("CN", years=year)
        day = date(year, 1, 1)
        while day.year == year:
            assert shipped.is_working_day(day) is package.is_working_day(day), day
            day += timedelta(days=1)


def test_a_year_without_schedule_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    calendar = WorkCalendar()
    with caplog.at_level(logging.WARNING, logger=workdays.__name__):
        assert calendar.is_working_day(date(2099, 1, 2))  # Friday
        assert not calendar.is_working_day(date(2099, 1, 3))  # Saturday
        assert not calendar.is_working_day(date(2099, 1, 1))  # New Year's Day, by rule
        assert calendar.add_working_days(date(2099, 1, 2), 1) == date(2099, 1, 5)
        assert calendar.is_working_day(date(2098, 1, 2))  # Thursday, another year
    assert [r.args[0] for r in caplog.records if r.args] == [2099, 2098]


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("2027:\n  working_days: [2027-02-10]\n", "not a weekend day"),
        ("2027:\n  holidays: {春节: 2027-02-06}\n  working_days: [2027-02-06]\n", "both"),
        ("2027:\n  holidays: {春节: 2027-02-06..2027-03-06}\n", "not a holiday break"),
        ("2027:\n  holidays: {春节: 2027-02-10..2027-02-06}\n", "not a holiday break"),
        ("2027:\n  holidays: {春节: next week}\n", "not a date"),
        ("2027:\n  holidays: {国庆节: 2026-10-01}\n", "not in or next to 2027"),
        ("2027:\n  holiday: {春节: 2027-02-06}\n", "unknown field"),
        ("春节: 2027-02-06\n", "not a year"),
    ],
)
def test_a_wrong_schedule_is_refused_with_the_reason(text: str, complaint: str) -> None:
    with pytest.raises(ScheduleError, match=complaint):
        parse_schedule(yaml.safe_load(text), "official-holidays.yaml")


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        (
            "2027:\n  holidays: {春节: 2027-02-01..2027-02-16}\n",
            "s.yaml 2027 春节: '2027-02-01..2027-02-16' is not a holiday break",
        ),
        (
            "2027:\n  working_days: [next week]\n",
            "s.yaml 2027 working_days: 'next week' is not a date or a range first..last",
        ),
        ("2027:\n  holiday: {}\n  notes: x\n", "s.yaml 2027: unknown field(s) holiday, notes"),
    ],
)
def test_a_refusal_says_where(text: str, refusal: str) -> None:
    with pytest.raises(ScheduleError) as refused:
        parse_schedule(yaml.safe_load(text), "s.yaml")
    assert str(refused.value) == refusal


@pytest.mark.parametrize(
    "text",
    [
        "2027: [2027-02-06]\n",  # a year, but no schedule under it
        "next: {holidays: {}}\n",  # a schedule, but under no year
        "2027:\n  holidays: {元旦: 2029-01-01}\n",  # two years away
        "2027:\n  holidays: {春节: 2028-02-01}\n",  # the next year, but not at the turn of it
    ],
)
def test_what_is_no_year_or_not_of_its_year_is_refused(text: str) -> None:
    with pytest.raises(ScheduleError) as refused:
        parse_schedule(yaml.safe_load(text))
    assert str(refused.value).startswith(("schedule: ", "schedule 2027: "))  # the default name


def test_a_year_keeps_its_notice_and_a_turn_of_the_year_break() -> None:
    text = "2027:\n  notice: 国办发明电〔2026〕7号\n  holidays: {元旦: 2027-12-31..2028-01-02}\n"
    (year,) = parse_schedule(yaml.safe_load(text)).values()
    assert (year.year, year.notice) == (2027, "国办发明电〔2026〕7号")
    assert year.days_off == {date(2027, 12, 31), date(2028, 1, 1), date(2028, 1, 2)}
    (unnamed,) = parse_schedule(yaml.safe_load("2027:\n  holidays: {}\n")).values()
    assert unnamed.notice == ""


def test_a_break_is_one_to_fifteen_days_written_as_a_day_or_a_range() -> None:
    years = parse_schedule(
        yaml.safe_load(
            "2027:\n  holidays:\n    a: '2027-02-06'\n    b: 2027-03-01..2027-03-01\n"
            "    c: 2027-10-01..2027-10-15\n"
        )
    )
    assert {date(2027, 2, 6), date(2027, 3, 1)} <= years[2027].days_off
    assert date(2027, 2, 7) not in years[2027].days_off
    assert {date(2027, 10, 1), date(2027, 10, 15)} <= years[2027].days_off
    assert len(years[2027].days_off) == 17


def test_a_wrong_operator_file_is_named_in_the_refusal(tmp_path: Path) -> None:
    operator = tmp_path / "official-holidays.yaml"
    operator.write_text("2027:\n  working_days: [2027-02-10]\n", encoding="utf-8")
    with pytest.raises(ScheduleError) as refused:
        load_calendar([operator])
    assert (
        str(refused.value)
        == f"{operator} 2027: make-up working day 2027-02-10 is not a weekend day"
    )


def test_a_new_year_break_may_start_in_december() -> None:
    years = parse_schedule(
        yaml.safe_load("2024:\n  holidays: {元旦: 2023-12-30..2024-01-01}\n"), "schedule"
    )
    assert date(2023, 12, 30) in years[2024].days_off
