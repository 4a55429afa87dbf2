"""Cards and loss reports: statuses, masking, lapse and pick-up dates, references.

The report's lifecycle (steps, lapse in reads and writes) is in ``test_report_lifecycle.py``.
"""

from __future__ import annotations

import random
import re
from datetime import date, datetime

import pytest

from ivr.domain.cards import (
    CardStatus,
    ReportStatus,
    card_tail,
    effective_status,
    lapse_date,
    mask_card,
    new_reference,
    pickup_date,
)
from ivr.domain.workdays import shipped_calendar

SHIPPED = shipped_calendar()


def test_status_values_are_stored_strings() -> None:
    assert CardStatus("provisionally_lost") is CardStatus.PROVISIONALLY_LOST
    assert isinstance(CardStatus.NORMAL, str) and str(CardStatus.NORMAL) == "normal"
    assert ReportStatus("needs_verification") is ReportStatus.NEEDS_VERIFICATION
    assert {s.value for s in ReportStatus} == {
        "provisional",
        "needs_verification",
        "lifted",
        "lapsed",
        "formal",
        "card_made",
        "picked_up",
    }


def test_mask_and_tail() -> None:
    assert mask_card("A12345678") == "*****5678"
    assert mask_card("M1234567B") == "*****567B"
    assert mask_card("123") == "***"
    assert mask_card("1234") == "****"  # nothing of a 4-character number shows
    assert mask_card(" 12345 ") == "*2345"
    assert card_tail("a1234567b") == "567B"
    assert card_tail(" 123x ") == "123X"
    with pytest.raises(ValueError):
        card_tail("123")


def test_lapse_date_counts_calendar_days() -> None:
    reported = date(2026, 9, 28)
    assert lapse_date(reported, 10) == date(2026, 10, 8)  # the National Day holiday included
    assert lapse_date(reported) == date(2026, 10, 8)
    assert lapse_date(reported, 2) == date(2026, 9, 30)


def test_a_provisional_report_lapses_on_its_lapse_date() -> None:
    lapses_on = date(2026, 10, 8)
    provisional = ReportStatus.PROVISIONAL
    assert effective_status(provisional, lapses_on, date(2026, 10, 7)) is provisional
    assert effective_status(provisional, lapses_on, date(2026, 10, 8)) is ReportStatus.LAPSED
    assert effective_status(provisional, lapses_on, date(2027, 1, 1)) is ReportStatus.LAPSED
    assert effective_status(provisional, None, date(2027, 1, 1)) is provisional


@pytest.mark.parametrize("status", [s for s in ReportStatus if s is not ReportStatus.PROVISIONAL])
def test_only_a_provisional_report_lapses(status: ReportStatus) -> None:
    assert effective_status(status, date(2026, 10, 8), date(2027, 1, 1)) is status


def test_pickup_counts_working_days() -> None:
    assert pickup_date(date(2026, 9, 25), SHIPPED) == date(2026, 10, 22)
    # Over National Day (1-7 Oct off, Saturday 10 Oct worked): Monday-Friday alone gives 21 Oct.
    assert pickup_date(date(2026, 9, 30), SHIPPED) == date(2026, 10, 27)
    # Bank-function cards: 8-10 Oct, six full weeks of five (12 Oct-20 Nov), then 23 and 24 Nov.
    assert pickup_date(date(2026, 9, 30), SHIPPED, 35) == date(2026, 11, 24)


def test_reference() -> None:
    now = datetime(2026, 11, 25, 14, 3)
    ref = new_reference(now, random.Random(7))
    assert re.fullmatch(r"261125\d{6}", ref)
    assert ref == new_reference(now, random.Random(7))
    assert new_reference(now, random.Random(8)) != ref
    assert re.fullmatch(r"\d{12}", new_reference(datetime(2027, 1, 2)))
    refs = {new_reference(now) for _ in range(50)}
    assert len(refs) > 45


class _Highest(random.Random):
    """A generator that always draws the highest number it may."""

    def randrange(self, *args: object, **kwargs: object) -> int:
        stop = args[-1] if len(args) > 1 else args[0]
        assert isinstance(stop, int)
        return stop - 1


def test_a_reference_has_twelve_digits_even_at_the_top_of_the_range() -> None:
    assert new_reference(datetime(2026, 11, 25, 14, 3), _Highest()) == "261125999999"
