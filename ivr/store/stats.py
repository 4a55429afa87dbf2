"""Statistics over the call log for the supervisor console, aggregated in SQL.

Times are bucketed in China Standard Time (UTC+8 all year, no daylight saving), which is what a
supervisor means by "calls at 9 o'clock" or "calls on Monday". Only the bucketing differs between
SQLite (text timestamps, ``strftime``) and PostgreSQL (``timestamptz``, ``to_char``).

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
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Float, SQLColumnExpression, String, case, cast, func, select

from ivr.domain.clock import UTC_OFFSET, ZONE_NAME
from ivr.domain.outcomes import DROP_OFFS, Outcome
from ivr.store.base import RecordsBase
from ivr.store.models import Call

__all__ = ["CallStats", "HotlineFigures", "Statistics"]

_CST = f"{UTC_OFFSET / timedelta(hours=1):+g} hours"  # SQLite modifier for China Standard Time
_CST_ZONE = ZONE_NAME


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


class Statistics(RecordsBase):
    async def call_stats(
        self, start: datetime, end: datetime, *, hotline: str | None = None
    ) -> CallStats:
        """Figures for calls started in ``[start, end)`` (aware datetimes)."""
        where = [Call.started_at >= start, Call.started_at < end]
        if hotline:
            where.append(Call.hotline == hotline)
        finished = Call.ended_at.is_not(None)
        hour = self._local_hour(Call.started_at).label("hour")
        async with self.db.read() as session:
            by_hour = (
                await session.execute(
                    select(Call.hotline, hour, func.count())
                    .where(*where)
                    .group_by(Call.hotline, hour)
                )
            ).all()
            figures = (
                await session.execute(
                    select(
                        Call.hotline,
                        func.count(),
                        func.count(Call.ended_at),
                        _count_if(Call.outcome == Outcome.SERVED),
                        _count_if(Call.next_action == "agent"),
                        func.avg(case((finished, self._handling_seconds()))),
                    )
                    .where(*where)
                    .group_by(Call.hotline)
                    .order_by(Call.hotline)
                )
            ).all()
            outcomes = (
                await session.execute(
                    select(Call.hotline, Call.outcome, func.count())
                    .where(*where, finished)
                    .group_by(Call.hotline, Call.outcome)
                )
            ).all()
            drops = (
                await session.execute(
                    select(Call.last_node, Call.outcome, func.count())
                    .where(*where, Call.outcome.in_(DROP_OFFS))
                    .group_by(Call.last_node, Call.outcome)
                )
            ).all()
        per_hour: dict[str, list[int]] = {}
        per_day: dict[str, dict[date, int]] = {}
        for line, bucket, count in by_hour:
            day, hh = str(bucket).split(" ")
            per_hour.setdefault(line, [0] * 24)[int(hh)] += count
            days = per_day.setdefault(line, {})
            days[date.fromisoformat(day)] = days.get(date.fromisoformat(day), 0) + count
        out: dict[str, dict[str, int]] = defaultdict(dict)
        for line, outcome, count in outcomes:
            out[line][outcome or "unknown"] = int(count)
        dropoff: dict[str, dict[str, int]] = defaultdict(dict)
        for node, outcome, count in drops:
            dropoff[node or "(none)"][outcome or "unknown"] = int(count)
        return CallStats(
            start=start,
            end=end,
            figures=[
                HotlineFigures(
                    hotline=line,
                    calls=int(calls),
                    finished=int(done),
                    served=int(served or 0),
                    transfers=int(transfers or 0),
                    avg_handling_s=None if avg is None else float(avg),
                )
                for line, calls, done, served, transfers, avg in figures
            ],
            per_hour=per_hour,
            per_day=per_day,
            outcomes=dict(out),
            dropoff=dict(dropoff),
        )

    def _local_hour(self, column: SQLColumnExpression[datetime]) -> ColumnElement[str]:
        """``YYYY-MM-DD HH`` of ``column`` in China Standard Time."""
        if self.db.is_sqlite:
            return func.strftime("%Y-%m-%d %H", column, _CST, type_=String)
        return func.to_char(func.timezone(_CST_ZONE, column), "YYYY-MM-DD HH24", type_=String)

    def _handling_seconds(self) -> ColumnElement[float]:
        if self.db.is_sqlite:
            span = (func.julianday(Call.ended_at) - func.julianday(Call.started_at)) * 86400.0
        else:
            span = func.extract("epoch", Call.ended_at - Call.started_at)
        return func.coalesce(cast(Call.duration_s, Float), cast(span, Float))


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))
