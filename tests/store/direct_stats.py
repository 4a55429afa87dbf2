"""The statistics counted straight from ``calls`` (what the console ran before the rollups): the
oracle the rollups must equal, whatever wrote the calls."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import func, select

from ivr.domain.clock import day_bounds, local
from ivr.domain.outcomes import DROP_OFFS
from ivr.store.database import Database
from ivr.store.models import Call, CallHour, CallNodeDay
from ivr.store.rollups import CallEnd, Tally
from ivr.store.stats import CallStats, HotlineFigures


async def direct_stats(db: Database, first: date, last: date, hotline: str | None) -> CallStats:
    """Every figure of ``Statistics.call_stats``, from the calls' rows, in Python."""
    start, end = day_bounds(first, last)
    assert start is not None and end is not None
    query = select(Call).where(Call.started_at >= start, Call.started_at < end)
    if hotline:
        query = query.where(Call.hotline == hotline)
    async with db.read() as session:
        calls = list(await session.scalars(query))
    per_hour: dict[str, list[int]] = {}
    per_day: dict[str, dict[date, int]] = {}
    outcomes: dict[str, dict[str, int]] = defaultdict(dict)
    dropoff: dict[str, dict[str, int]] = defaultdict(dict)
    lines: dict[str, list[Call]] = defaultdict(list)
    for call in calls:
        moment = local(call.started_at)
        per_hour.setdefault(call.hotline, [0] * 24)[moment.hour] += 1
        days = per_day.setdefault(call.hotline, {})
        days[moment.date()] = days.get(moment.date(), 0) + 1
        lines[call.hotline].append(call)
        if call.ended_at is None:
            continue
        outcome = call.outcome or "unknown"
        outcomes[call.hotline][outcome] = outcomes[call.hotline].get(outcome, 0) + 1
        if call.outcome in DROP_OFFS:
            node = dropoff[call.last_node or "(none)"]
            node[call.outcome] = node.get(call.outcome, 0) + 1
    figures = []
    for line, rows in sorted(lines.items()):
        done = [c for c in rows if c.ended_at is not None]
        spans = [_handling_us(c) for c in done]
        figures.append(
            HotlineFigures(
                hotline=line,
                calls=len(rows),
                finished=len(done),
                served=sum(c.outcome == "served" for c in rows),
                transfers=sum(c.next_action == "agent" for c in rows),
                avg_handling_s=sum(spans) / 1e6 / len(spans) if spans else None,
            )
        )
    return CallStats(start, end, figures, per_hour, per_day, dict(outcomes), dict(dropoff))


def _handling_us(call: Call) -> int:
    """Whole microseconds, so that the average is the same float as the rollups' sum gives."""
    if call.duration_s is not None:
        return call.duration_s * 1_000_000
    assert call.ended_at is not None
    return (call.ended_at - call.started_at) // timedelta(microseconds=1)


Rows = list[tuple[object, ...]]


async def stored_rollups(db: Database) -> tuple[Rows, Rows]:
    """The rollups' rows as stored (rows counting nothing left out)."""
    async with db.read() as session:
        hours = await session.execute(
            select(
                CallHour.hour,
                CallHour.hotline,
                CallHour.outcome,
                CallHour.calls,
                CallHour.transfers,
                CallHour.handling_us,
            ).order_by(CallHour.hour, CallHour.hotline, CallHour.outcome)
        )
        nodes = await session.execute(
            select(
                CallNodeDay.day,
                CallNodeDay.hotline,
                CallNodeDay.outcome,
                CallNodeDay.node,
                CallNodeDay.calls,
            ).order_by(CallNodeDay.day, CallNodeDay.hotline, CallNodeDay.outcome, CallNodeDay.node)
        )
        return (
            [tuple(r) for r in hours if any(r[3:])],
            [tuple(r) for r in nodes if r[4]],
        )


async def tallied_rollups(db: Database) -> tuple[Rows, Rows]:
    """The rollups' rows the finished calls stored now make, one by one."""
    tally = Tally()
    async with db.read() as session:
        for call in await session.scalars(select(Call).where(Call.ended_at.is_not(None))):
            assert call.ended_at is not None
            tally.add(
                CallEnd(
                    call.hotline,
                    call.started_at,
                    call.ended_at,
                    call.outcome,
                    call.last_node,
                    call.next_action,
                    call.duration_s,
                )
            )
    return (
        [tuple(row.values()) for row in tally.hour_rows()],
        [tuple(row.values()) for row in tally.node_rows()],
    )


async def count_calls(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Call)) or 0)
