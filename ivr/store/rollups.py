"""The statistics' rollups: finished calls counted per hour (``CallHour``) and per local day and
node (``CallNodeDay``), kept in the same transaction as the call's end.

Every write of a call's end comes through here with the end it replaces: ``finish_call`` (which
may write over a call the sweep had closed as interrupted), the sweep of dead runs and a clean
stop (``ivr.store.runs``), and Asterisk's hang-up facts (``complete_hangup``: the duration changes
the handling time). Each takes the call's row before changing it (``FOR UPDATE`` on PostgreSQL,
or the ``UPDATE`` itself; SQLite writers take turns), so the end it takes back out is the one
stored. The counts then change by upserts that add to the stored value (``ON CONFLICT DO UPDATE
SET calls = calls + excluded.calls``), which concurrent writers cannot lose, in one order (table,
then key), so two writers never wait on each other in a circle.

Calls in progress are not counted here: the statistics take them from ``calls`` itself (few rows,
under the partial index ``ix_calls_open``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.domain.clock import UTC_OFFSET, local
from ivr.store.models import Call, CallHour, CallNodeDay

__all__ = [
    "CallEnd",
    "Tally",
    "handling_us",
    "hour_of",
    "hour_start",
    "in_progress",
    "save_tally",
    "write_tally",
]

HOUR = timedelta(hours=1)
# A local day must be a run of whole UTC hours for the hourly rollup to answer for it.
assert not UTC_OFFSET % HOUR, "the rollups need a whole-hour UTC offset"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
AGENT = "agent"  # next_action of a transfer


@dataclass(frozen=True)
class CallEnd:
    """What the rollups count of a finished call (as stored: clipped to its columns)."""

    hotline: str
    started_at: datetime
    ended_at: datetime
    outcome: str | None
    last_node: str | None
    next_action: str | None
    duration_s: int | None


def in_progress(
    start: datetime | None, end: datetime | None, hotline: str | None, *, sqlite: bool
) -> list[ColumnElement[bool]]:
    """The calls in progress that started in [start, end) on ``hotline``: what the rollups do not
    count yet. Found by their partial index ``ix_calls_open`` (a handful of rows). SQLite's
    planner prefers an index on (hotline, started_at) when the hotline is compared as is, and
    reads a month of calls; compared as an expression (``hotline || ''``), it cannot."""
    where: list[ColumnElement[bool]] = [Call.ended_at.is_(None)]
    if start is not None:
        where.append(Call.started_at >= start)
    if end is not None:
        where.append(Call.started_at < end)
    if hotline:
        where.append((Call.hotline + "" if sqlite else Call.hotline) == hotline)
    return where


def hour_of(moment: datetime) -> int:
    """The hour ``moment`` falls in, as whole hours since 1970-01-01 00:00 UTC."""
    return (moment - _EPOCH) // HOUR


def hour_start(hour: int) -> datetime:
    return _EPOCH + hour * HOUR


def handling_us(end: CallEnd) -> int:
    """Handling time as the statistics define it: Asterisk's duration when the AMI bridge gave
    one, else end minus start; in whole microseconds (what both engines store), so that sums
    taken and put back stay exact."""
    if end.duration_s is not None:
        return end.duration_s * 1_000_000
    return (end.ended_at - end.started_at) // timedelta(microseconds=1)


HourKey = tuple[int, str, str]  # hour, hotline, outcome
NodeKey = tuple[date, str, str, str]  # local day, hotline, outcome, node


@dataclass
class Tally:
    """Changes to the rollups, summed by key: ``add`` a call's end, ``remove`` the one it had."""

    hours: dict[HourKey, list[int]] = field(default_factory=dict)  # calls, transfers, µs
    nodes: dict[NodeKey, int] = field(default_factory=dict)

    def add(self, end: CallEnd, sign: int = 1) -> None:
        outcome = end.outcome or ""
        counts = self.hours.setdefault((hour_of(end.started_at), end.hotline, outcome), [0, 0, 0])
        counts[0] += sign
        counts[1] += sign if end.next_action == AGENT else 0
        counts[2] += sign * handling_us(end)
        node = (local(end.started_at).date(), end.hotline, outcome, end.last_node or "")
        self.nodes[node] = self.nodes.get(node, 0) + sign

    def remove(self, end: CallEnd) -> None:
        self.add(end, -1)

    def replace(self, before: CallEnd | None, after: CallEnd) -> None:
        if before is not None:
            self.remove(before)
        self.add(after)

    def hour_rows(self) -> list[dict[str, Any]]:
        return [
            {"hour": h, "hotline": ln, "outcome": o, "calls": c, "transfers": t, "handling_us": us}
            for (h, ln, o), (c, t, us) in sorted(self.hours.items())
            if c or t or us
        ]

    def node_rows(self) -> list[dict[str, Any]]:
        return [
            {"day": d, "hotline": line, "outcome": o, "node": n, "calls": c}
            for (d, line, o, n), c in sorted(self.nodes.items())
            if c
        ]


def write_tally(connection: Connection, tally: Tally) -> None:
    """Add the tally to the rollups, in the connection's transaction."""
    dialect = connection.dialect.name
    _upsert(connection, dialect, CallHour.__table__, tally.hour_rows(), _HOUR_COUNTS)
    _upsert(connection, dialect, CallNodeDay.__table__, tally.node_rows(), _NODE_COUNTS)


async def save_tally(session: AsyncSession, tally: Tally) -> None:
    """``write_tally`` in the session's transaction."""
    connection = await session.connection()
    await connection.run_sync(write_tally, tally)


_HOUR_COUNTS = ("calls", "transfers", "handling_us")
_NODE_COUNTS = ("calls",)


def _upsert(
    connection: Connection,
    dialect: str,
    table: Any,
    rows: Sequence[dict[str, Any]],
    counts: tuple[str, ...],
) -> None:
    assert isinstance(table, Table)
    if rows:
        connection.execute(_upsert_statement(dialect, table, counts), list(rows))


@functools.cache
def _upsert_statement(dialect: str, table: Table, counts: tuple[str, ...]) -> Any:
    """One statement per table, its rows given as parameters (executemany): built and compiled
    once, where rows written into the statement made SQLAlchemy walk them for its cache key on
    every call's end."""
    insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=[column.name for column in table.primary_key.columns],
        set_={name: table.c[name] + statement.excluded[name] for name in counts},
    )
