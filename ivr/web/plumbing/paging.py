"""Whole numbers read from a query (page numbers, page sizes): within their range, or refused.

A number out of range is refused with a message that gives the range, rather than clamped or
passed on: an offset of 10^23 rows fails in the database.
"""

from __future__ import annotations

__all__ = ["MAX_PAGE", "whole_number"]

MAX_PAGE = 1_000_000  # far past any real log; its offset is one every database takes


def whole_number(text: str, name: str, *, default: int, low: int, high: int) -> int:
    """``text`` as a whole number from ``low`` to ``high`` (``default`` when empty); else
    ValueError, whose message (safe to show) gives the range."""
    if not text:
        return default
    if text.isascii() and text.isdigit() and len(text) <= len(str(high)):
        number = int(text)
        if low <= number <= high:
            return number
    raise ValueError(f"{name} is a whole number from {low} to {high}")
