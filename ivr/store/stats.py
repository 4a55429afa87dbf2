"""Statistics over the call log for the supervisor console, read from the rollups.

Periods are local days in Beijing (``ivr.domain.clock``), which is what a supervisor means by
"calls at 9 o'clock" or "calls on Monday". Finished calls are counted from the rollups kept as
calls end (``ivr.store.rollups``: per hour, hotline and outcome; per local day, hotline, outcome
and node), so a month costs about what an hour does; calls still in progress are counted from
``calls`` (few rows, under a partial index). All is read in one snapshot, so a call that ends
meanwhile is counted once.

Definitions (the console explains them next to the figures):

- handling time: Asterisk's duration when the AMI bridge gave one, else end minus start;
- containment: calls that ended ``served`` divided by all finished calls (agent transfers, voice
  messages, failures, hang-ups and errors all still need a person or lost the caller);
- drop-off: finished calls by the node the caller was at when the call ended as ``abandoned``
  (hung up) or ``failed`` (could not get through a menu).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import BigInteger, ColumnElement, SQLColumnExpression, cast, func, select

from ivr.domain.clock import day_bounds, local
from ivr.domain.outcomes import DROP_OFFS, Outcome
from ivr.store.base import RecordsBase
from ivr.store.models import Call, CallHour, CallNodeDay
from ivr.store.rollups import hour_of, hour_start, in_progress

__all__ = ["CallStats", "HotlineFigures", "Statistics"]


@dataclass(frozen=True)
class HotlineFigures:
    hotline: str
    calls: int  # started in the period (in progress included)
    finished: int
    served: int
    transfers: int  # next_action = agent
    avg_handling_s: float | None

    @property
    def containment(self) -> float | None:
        return self.served / self.finished if self.finished else None


@dataclass(frozen=True)
class CallStats:
    start: datetime
    end: datetime
    figures: list[HotlineFigures]
    per_hour: dict[str, list[int]]  # hotline -> 24 counts by local hour of day
    per_day: dict[str, dict[date, int]]  # hotline -> local day -> count
    outcomes: dict[str, dict[str, int]]  # hotline -> outcome -> count (finished calls)
    dropoff: dict[str, dict[str, int]] = field(default_factory=dict)  # node -> outcome -> count

    @property
    def hotlines(self) -> list[str]:
        return [f.hotline for f in self.figures]


@dataclass
class _Line:
    started: int = 0
    finished: int = 0
    served: int = 0
    transfers: int = 0
    handling_us: int = 0


class Statistics(RecordsBase):
    async def call_stats(self, first: date, last: date, *, hotline: str | None = None) -> CallStats:
        """Figures for calls started on the local days ``first`` to ``last``."""
        start, end = day_bounds(first, last)
        assert start is not None and end is not None
        hours = [CallHour.hour >= hour_of(start), CallHour.hour < hour_of(end)]
        days = [CallNodeDay.day >= first, CallNodeDay.day <= last]
        running = in_progress(start, end, hotline, sqlite=self.db.is_sqlite)
        if hotline:
            hours.append(CallHour.hotline == hotline)
            days.append(CallNodeDay.hotline == hotline)
        async with self.db.read(snapshot=True) as session:
            by_hour = (
                await session.execute(
                    select(CallHour.hour, CallHour.hotline, _sum(CallHour.calls))
                    .where(*hours)
                    .group_by(CallHour.hour, CallHour.hotline)
                )
            ).all()
            by_outcome = (
                await session.execute(
                    select(
                        CallHour.hotline,
                        CallHour.outcome,
                        _sum(CallHour.calls),
                        _sum(CallHour.transfers),
                        _sum(CallHour.handling_us),
                    )
                    .where(*hours)
                    .group_by(CallHour.hotline, CallHour.outcome)
                )
            ).all()
            drops = (
                await session.execute(
                    select(CallNodeDay.node, CallNodeDay.outcome, _sum(CallNodeDay.calls))
                    .where(*days, CallNodeDay.outcome.in_(DROP_OFFS))
                    .group_by(CallNodeDay.node, CallNodeDay.outcome)
                )
            ).all()
            open_calls = (
                await session.execute(select(Call.hotline, Call.started_at).where(*running))
            ).all()
        per_hour: dict[str, list[int]] = {}
        per_day: dict[str, dict[date, int]] = {}

        def count(line: str, started: datetime, calls: int) -> None:
            if not calls:
                return
            moment = local(started)
            per_hour.setdefault(line, [0] * 24)[moment.hour] += calls
            line_days = per_day.setdefault(line, {})
            line_days[moment.date()] = line_days.get(moment.date(), 0) + calls

        lines: dict[str, _Line] = defaultdict(_Line)
        for hour, line, calls in by_hour:
            count(line, hour_start(hour), calls)
        for line, started in open_calls:
            count(line, started, 1)
            lines[line].started += 1
        outcomes: dict[str, dict[str, int]] = defaultdict(dict)
        for line, outcome, calls, transfers, handling in by_outcome:
            if not calls:
                continue
            figures = lines[line]
            figures.started += calls
            figures.finished += calls
            figures.served += calls if outcome == Outcome.SERVED else 0
            figures.transfers += transfers
            figures.handling_us += handling
            outcomes[line][outcome or "unknown"] = calls
        dropoff: dict[str, dict[str, int]] = defaultdict(dict)
        for node, outcome, calls in drops:
            if calls:
                dropoff[node or "(none)"][outcome] = calls
        return CallStats(
            start=start,
            end=end,
            figures=[
                HotlineFigures(
                    hotline=line,
                    calls=f.started,
                    finished=f.finished,
                    served=f.served,
                    transfers=f.transfers,
                    avg_handling_s=f.handling_us / 1e6 / f.finished if f.finished else None,
                )
                for line, f in sorted(lines.items())
                if f.started
            ],
            per_hour=per_hour,
            per_day=per_day,
            outcomes=dict(outcomes),
            dropoff=dict(dropoff),
        )


def _sum(column: SQLColumnExpression[int]) -> ColumnElement[int]:
    """A sum as a whole number on both engines (PostgreSQL sums BIGINT as NUMERIC)."""
    return cast(func.sum(column), BigInteger)
