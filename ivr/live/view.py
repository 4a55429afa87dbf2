"""What readers of live calls depend on (``LiveView``), and its database-backed form.

In the hotline's own process readers get the ``LiveBoard``. The console running alone
(``hotline web``) has no board; ``DatabaseLiveView`` lists the call records not ended yet, polled,
whose menu node is known only once they end, and counts the calls refused (lines busy) over the
board's window from their records (written as each hangs up).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Protocol

from ivr.live.board import LiveCall, LiveChange, LiveSnapshot, Stage
from ivr.live.fanout import Fanout, Subscription
from ivr.live.refusals import REFUSED_WINDOW, RefusedCounts

__all__ = ["DatabaseLiveView", "LiveRecords", "LiveView", "UnfinishedCall"]


class LiveView(Protocol):
    @property
    def source(self) -> str:
        """Where the list comes from: ``board`` (this process) or ``database``."""
        ...

    @property
    def refresh_seconds(self) -> float:
        """How often a reader re-reads when no change is signalled."""
        ...

    async def snapshot(self) -> LiveSnapshot: ...

    def subscribe(self) -> AbstractContextManager[Subscription[LiveChange]]: ...


class UnfinishedCall(Protocol):
    """A call record not ended yet (``ivr.store.views.CallSummary`` fits)."""

    @property
    def id(self) -> int: ...
    @property
    def uniqueid(self) -> str | None: ...
    @property
    def hotline(self) -> str: ...
    @property
    def caller_id(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def last_node(self) -> str | None: ...
    @property
    def started_at(self) -> datetime: ...


class LiveRecords(Protocol):
    """``ivr.store.console.ConsoleRecords`` fits: calls not ended, of processes alive; calls
    refused (lines busy) per hotline."""

    async def unfinished_calls(
        self, *, since: datetime, now: datetime, stale_after: timedelta
    ) -> Sequence[UnfinishedCall]: ...

    async def refused_calls(self, *, since: datetime) -> Mapping[str, int]: ...


# Rows written before processes recorded their runs: older unended ones are of a process that died.
OWNERLESS_WINDOW = timedelta(hours=2)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DatabaseLiveView:
    source = "database"
    refresh_seconds = 3.0

    def __init__(
        self,
        records: LiveRecords,
        *,
        stale_after: timedelta,
        clock: Callable[[], datetime] = _utcnow,
        refused_window: timedelta = REFUSED_WINDOW,
    ) -> None:
        self._records = records
        self._refused_window = refused_window
        self._stale_after = stale_after  # a process not heard of for this long is dead
        self._clock = clock
        self._never: Fanout[LiveChange] = Fanout()  # the database signals nothing: readers poll

    async def snapshot(self) -> LiveSnapshot:
        now = self._clock()
        rows = await self._records.unfinished_calls(
            since=now - OWNERLESS_WINDOW, now=now, stale_after=self._stale_after
        )
        calls = tuple(
            LiveCall(
                key=row.uniqueid or f"call-{row.id}",
                hotline=row.hotline,
                stage=Stage.MENUS,
                call_id=row.id,
                caller_id=row.caller_id,
                language=row.language,
                node=row.last_node,
                queue=None,
                agent=None,
                started_at=row.started_at,
                seconds=round(max(0.0, (now - row.started_at).total_seconds()), 1),
                waiting_seconds=None,
            )
            for row in sorted(rows, key=lambda r: r.started_at)
        )
        refused = await self._records.refused_calls(since=now - self._refused_window)
        return LiveSnapshot(now, calls, RefusedCounts(self._refused_window, dict(refused)))

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[Subscription[LiveChange]]:
        with self._never.subscribe() as subscription:
            yield subscription
