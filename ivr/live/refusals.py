"""Calls refused because the node was full (lines busy), counted over the last minutes.

In a surge the refused calls are what a supervisor most needs to see, and the calls in progress
never show them: a refused call is no call in progress (the dialplan's cap stops counting it at
once) and leaves the list within seconds. So the board remembers when each was refused, for
``REFUSED_WINDOW``: long enough that a supervisor who looks at the board every few minutes still
sees a burst that is over, short enough that the figure falls back to zero soon after the surge
(it says "now", where a count since the node started would only grow, and restart from zero with
the node; the call log and the statistics count the whole day's).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["REFUSED_WINDOW", "RecentRefusals", "RefusedCounts"]

REFUSED_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class RefusedCounts:
    """How many calls were refused (lines busy), per hotline, in the ``window`` up to now."""

    window: timedelta
    by_hotline: Mapping[str, int]  # hotlines with none are left out

    def counts(self, hotlines: tuple[str, ...]) -> dict[str, int]:
        return {line: self.by_hotline.get(line, 0) for line in hotlines}

    @property
    def total(self) -> int:
        return sum(self.by_hotline.values())

    @property
    def minutes(self) -> int:
        return round(self.window.total_seconds() / 60)


class RecentRefusals:
    """When each call was refused, per hotline, kept for ``window``; each call counted once (an
    event told again, by a replay, does not count twice)."""

    def __init__(self, window: timedelta = REFUSED_WINDOW) -> None:
        self.window = window
        self._times: dict[str, list[tuple[datetime, str]]] = {}  # per hotline, oldest first
        self._keys: set[str] = set()

    def add(self, key: str, hotline: str, at: datetime, now: datetime) -> bool:
        """Count the call ``key`` refused ``at``; False when it was counted already, or is older
        than the window."""
        self._forget_before(now - self.window)
        if key in self._keys or at < now - self.window:
            return False
        # Several nodes' events may arrive out of order (a replay): kept sorted all the same.
        insort(self._times.setdefault(hotline, []), (at, key))
        self._keys.add(key)
        return True

    def counts(self, now: datetime) -> RefusedCounts:
        since = (now - self.window, "")
        counts = {line: len(t) - bisect_left(t, since) for line, t in self._times.items()}
        return RefusedCounts(self.window, {line: n for line, n in counts.items() if n})

    def __iter__(self) -> Iterator[tuple[str, str, datetime]]:
        """(key, hotline, when) of every refusal kept, for a replay."""
        for hotline, times in self._times.items():
            for at, key in times:
                yield key, hotline, at

    def _forget_before(self, since: datetime) -> None:
        for times in self._times.values():
            gone = bisect_left(times, (since, ""))
            for _, key in times[:gone]:
                self._keys.discard(key)
            del times[:gone]
