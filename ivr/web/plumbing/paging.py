"""Values read from a query or a form: whole numbers (page numbers, page sizes) within their
range, and days; refused with a message that says what is expected (``TextError``).

A number out of range is refused with a message that gives the range, rather than clamped or
passed on: an offset of 10^23 rows fails in the database.
"""

from __future__ import annotations

from datetime import date

from ivr.domain.clock import FIRST_DAY, LAST_DAY, parse_day
from ivr.web.plumbing.i18n import TextError, _l

__all__ = ["MAX_PAGE", "day", "whole_number"]

MAX_PAGE = 1_000_000  # far past any real log; its offset is one every database takes


def whole_number(text: str, name: str, *, default: int, low: int, high: int) -> int:
    """``text`` as a whole number from ``low`` to ``high`` (``default`` when empty); else
    ``TextError``, whose message gives the range."""
    if not text:
        return default
    if text.isascii() and text.isdigit() and len(text) <= len(str(high)):
        number = int(text)
        if low <= number <= high:
            return number
    raise TextError(
        _l("%(name)s is a whole number from %(low)s to %(high)s.", name=name, low=low, high=high)
    )


def day(text: str, name: str) -> date:
    """A local day written YYYY-MM-DD (``ivr.domain.clock.parse_day``); else ``TextError``."""
    try:
        return parse_day(text)
    except ValueError:
        raise TextError(
            _l(
                "%(name)s: a date is written YYYY-MM-DD, from %(first)s to %(last)s.",
                name=name,
                first=FIRST_DAY.isoformat(),
                last=LAST_DAY.isoformat(),
            )
        ) from None
