"""Social-security cards and loss reports: statuses, masking, the dates a caller is told.

A provisional report (by phone) stops settlement at once and lapses by itself after a number of
calendar days unless the caller lifts it (card found) first; a formal report at a service point
cannot be undone and starts the re-issue, ready after a number of working days.
"""

from __future__ import annotations

import enum
import random
import secrets
from datetime import date, datetime, timedelta

from ivr.domain.workdays import add_working_days

__all__ = [
    "CardStatus",
    "ReportStatus",
    "can_lift",
    "card_tail",
    "effective_status",
    "lapse_date",
    "mask_card",
    "new_reference",
    "pickup_date",
]

DEFAULT_LAPSE_DAYS = 10
DEFAULT_REISSUE_WORKING_DAYS = 15


# StrEnum (a str subclass like ``str, Enum``): values go to the database and templates as they are.
class CardStatus(enum.StrEnum):
    NORMAL = "normal"
    PROVISIONALLY_LOST = "provisionally_lost"
    FORMALLY_LOST = "formally_lost"  # re-issue under way
    READY_FOR_PICKUP = "ready_for_pickup"


class ReportStatus(enum.StrEnum):
    PROVISIONAL = "provisional"
    NEEDS_VERIFICATION = "needs_verification"
    LIFTED = "lifted"
    LAPSED = "lapsed"
    FORMAL = "formal"
    CARD_MADE = "card_made"
    PICKED_UP = "picked_up"


def mask_card(number: str) -> str:
    """All but the last 4 characters starred ("*****5678"); never raises, as it serves the logs."""
    number = number.strip()
    if len(number) <= 4:
        return "*" * len(number)
    return "*" * (len(number) - 4) + number[-4:]


def card_tail(number: str) -> str:
    """The last 4 characters, the part read back to the caller."""
    number = number.strip().upper()
    if len(number) < 4:
        raise ValueError("a card number has more than 4 characters")
    return number[-4:]


def lapse_date(reported_on: date, days: int = DEFAULT_LAPSE_DAYS) -> date:
    """The first day on which a provisional report no longer holds (calendar days)."""
    return reported_on + timedelta(days=days)


def pickup_date(formal_on: date, working_days: int = DEFAULT_REISSUE_WORKING_DAYS) -> date:
    return add_working_days(formal_on, working_days)


def can_lift(status: ReportStatus) -> bool:
    """Only a provisional report can be lifted; a formal one starts a re-issue that cannot stop."""
    return status is ReportStatus.PROVISIONAL


def effective_status(
    status: ReportStatus, reported_on: date, today: date, lapse_days: int = DEFAULT_LAPSE_DAYS
) -> ReportStatus:
    """The status as of ``today``: a provisional report past its lapse date has lapsed.

    Lapsing is computed, not written by a background job, so it is right even if no job ran.
    """
    if status is ReportStatus.PROVISIONAL and today >= lapse_date(reported_on, lapse_days):
        return ReportStatus.LAPSED
    return status


def new_reference(now: datetime, rng: random.Random | None = None) -> str:
    """A 12-digit reference, YYMMDD + 6 random digits (digits only: it is read back one by one)."""
    rng = rng or secrets.SystemRandom()
    return f"{now:%y%m%d}{rng.randrange(1_000_000):06d}"
