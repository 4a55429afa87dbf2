"""Hotline processes (runs): each registers, beats while it lives, and marks its stop.

A process that dies without stopping (``kill -9``, OOM, power cut) leaves its calls open. Any
process that later finds a run's heartbeat stale closes that run and its open calls in one
transaction, as ``interrupted`` at the time it was last seen: the start of the next process, or
another node sharing the database.

Two processes may sweep at once. A run is claimed by a conditional UPDATE (``stopped_at IS NULL``)
of rows taken ``FOR NO KEY UPDATE SKIP LOCKED`` on PostgreSQL, so a second sweeper skips the runs
the first holds instead of waiting on them, and finds them stopped once it commits. SQLite ignores
the lock clause; there writers take turns (``BEGIN IMMEDIATE``).

A stale heartbeat is judged by comparing the beating node's clock with the sweeping node's: nodes
sharing a database keep their clocks in step (NTP), well within ``stale_after``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, case, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.domain.outcomes import Outcome
from ivr.store.base import RecordsBase, clip
from ivr.store.errors import NotFound
from ivr.store.models import Call, Run
from ivr.store.rollups import CallEnd, Tally, save_tally
from ivr.store.types import UTCDateTime

__all__ = ["DIED", "INTERRUPTED", "STOPPED", "ClosedRun", "RunRecords", "live_runs"]

STOPPED = "stopped"  # stop_reason: the process stopped cleanly
DIED = "died"  # stop_reason: another process found its heartbeat stale
INTERRUPTED = Outcome.INTERRUPTED  # the outcome of a call its process did not finish


@dataclass(frozen=True)
class ClosedRun:
    """A run found dead and closed, with how many of its calls were still open."""

    run_id: int
    node: str
    pid: int
    last_seen: datetime  # when it went away, as far as anyone can tell
    calls_closed: int


def live_runs(now: datetime, stale_after: timedelta) -> Select[int]:
    """Ids of the runs alive at ``now``: not stopped and seen within ``stale_after`` (exactly the
    running ones ``close_dead_runs`` would leave alone)."""
    return select(Run.id).where(Run.stopped_at.is_(None), Run.last_seen >= now - stale_after)


class RunRecords(RecordsBase):
    async def start_run(self, node: str, pid: int, now: datetime) -> int:
        run = Run(node=clip(node, 64), pid=pid, started_at=now, last_seen=now)
        async with self.db.write() as session:
            session.add(run)
            await session.flush()
            return run.id

    async def beat(self, run_id: int, now: datetime) -> bool:
        """Record that the run is alive; True when it had been found dead and is revived.

        A process paused longer than ``stale_after`` (a stopped VM, a stalled disk) is closed by
        others, but it still runs: its next beat makes it live again rather than leaving a working
        node invisible for good. Its calls closed meanwhile are corrected as they end
        (``finish_call`` writes over them).
        """
        async with self.db.write() as session:
            alive = await session.execute(
                update(Run)
                .where(Run.id == run_id, Run.stopped_at.is_(None))
                .values(last_seen=now)
                .returning(Run.id)
                .execution_options(synchronize_session=False)
            )
            if alive.one_or_none() is not None:
                return False
            revived = await session.execute(
                update(Run)
                .where(Run.id == run_id, Run.stop_reason == DIED)
                .values(last_seen=now, stopped_at=None, stop_reason=None)
                .returning(Run.id)
                .execution_options(synchronize_session=False)
            )
            if revived.one_or_none() is None:
                raise NotFound("running process", run_id)
            return True

    async def stop_run(self, run_id: int, now: datetime) -> int:
        """Mark a clean stop; returns how many calls the run left open (closed as interrupted).

        Normally none: each call writes its own end before the process stops. Any left would
        never be swept (only running runs are), so they are closed here.
        """
        async with self.db.write() as session:
            await session.execute(
                update(Run)
                .where(Run.id == run_id, or_(Run.stop_reason.is_(None), Run.stop_reason == DIED))
                .values(last_seen=now, stopped_at=now, stop_reason=STOPPED)
                .execution_options(synchronize_session=False)
            )
            tally = Tally()
            closed = await _close_calls(session, run_id, now, tally)
            await save_tally(session, tally)
            return closed

    async def open_runs(self, node: str) -> list[tuple[int, int]]:
        """(run id, pid) of the runs of ``node`` not stopped: the host can tell which are gone."""
        async with self.db.read() as session:
            rows = await session.execute(
                select(Run.id, Run.pid).where(Run.node == clip(node, 64), Run.stopped_at.is_(None))
            )
            return [(run_id, pid) for run_id, pid in rows]

    async def close_dead_runs(
        self, now: datetime, stale_after: timedelta, *, gone: Collection[int] = ()
    ) -> list[ClosedRun]:
        """Close every running run not seen since ``now - stale_after`` (and those in ``gone``,
        known dead already: their process no longer exists), and their open calls."""
        dead = Run.last_seen < now - stale_after
        if gone:
            dead = or_(dead, Run.id.in_(list(gone)))
        stale = (
            select(Run.id)
            .where(Run.stopped_at.is_(None), dead)
            .order_by(Run.id)
            .with_for_update(skip_locked=True, key_share=True)
        )
        async with self.db.write() as session:
            claimed = (
                await session.execute(
                    update(Run)
                    .where(Run.id.in_(stale), Run.stopped_at.is_(None))
                    .values(stopped_at=now, stop_reason=DIED)
                    .returning(Run.id, Run.node, Run.pid, Run.last_seen)
                    .execution_options(synchronize_session=False)
                )
            ).all()
            closed = []
            tally = Tally()
            for run_id, node, pid, last_seen in sorted(claimed):
                count = await _close_calls(session, run_id, last_seen, tally)
                closed.append(ClosedRun(run_id, node, pid, last_seen, count))
            await save_tally(session, tally)
            return closed


async def _close_calls(
    session: AsyncSession, run_id: int, went_away: datetime, tally: Tally
) -> int:
    """End the run's open calls as interrupted at ``went_away`` (or at their start, if later: a
    call taken after the last heartbeat cannot have ended before it began), their counts added
    to ``tally``. A call its own process ends meanwhile is left to it: PostgreSQL re-checks
    ``ended_at IS NULL`` once that writer commits.

    The caller saves the tally after closing all it closes: the rollups' rows are locked last,
    so a transaction holding them never waits for a call's row (no deadlock with a call's end,
    which locks its call first)."""
    ended_at = case(
        (Call.started_at > went_away, Call.started_at),
        else_=literal(went_away, UTCDateTime()),
    )
    closed = (
        await session.execute(
            update(Call)
            .where(Call.run_id == run_id, Call.ended_at.is_(None))
            .values(ended_at=ended_at, outcome=INTERRUPTED, next_action=None)
            .returning(
                Call.hotline,
                Call.started_at,
                Call.ended_at,
                Call.outcome,
                Call.last_node,
                Call.next_action,
                Call.duration_s,
            )
            .execution_options(synchronize_session=False)
        )
    ).all()
    for line, started_at, closed_at, outcome, last_node, next_action, duration_s in closed:
        assert closed_at is not None
        tally.add(CallEnd(line, started_at, closed_at, outcome, last_node, next_action, duration_s))
    return len(closed)
