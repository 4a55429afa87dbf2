"""Hotline processes (runs): a dead one's open calls are closed once, at its last heartbeat."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.console import ConsoleRecords
from ivr.store.database import Database, open_database
from ivr.store.errors import NotFound
from ivr.store.models import Call, Run
from ivr.store.records import Records
from ivr.store.runs import ClosedRun
from tests.store.support import NOW

SECOND = timedelta(seconds=1)
STALE = 15 * SECOND


async def _call(records: Records, run_id: int | None, started_at: datetime) -> int:
    uniqueid = f"{started_at.timestamp()}"
    return (
        await records.start_call(
            "12333", "13800000000", uniqueid, "PJSIP/x", "zh", started_at, run_id=run_id
        )
    ).call_id


async def _finish(records: Records, call_id: int, ended_at: datetime) -> None:
    await records.finish_call(
        call_id,
        ended_at=ended_at,
        outcome="served",
        last_node="main",
        next_action="hangup",
        language="zh",
        id_hash=None,
        id_masked=None,
        steps=[],
    )


async def _rows(db: Database) -> tuple[dict[int, Call], dict[int, Run]]:
    async with db.read() as session:
        calls = {c.id: c for c in await session.scalars(select(Call))}
        runs = {r.id: r for r in await session.scalars(select(Run))}
    return calls, runs


async def test_sweep_ends_a_dead_runs_open_calls_at_its_last_heartbeat(
    records: Records, db: Database
) -> None:
    dead = await records.start_run("node-a", 100, NOW)
    assert await records.beat(dead, NOW + 10 * SECOND) is False
    open_call = await _call(records, dead, NOW + SECOND)
    late_call = await _call(records, dead, NOW + 12 * SECOND)  # taken after the last beat
    done_call = await _call(records, dead, NOW + 2 * SECOND)
    await _finish(records, done_call, NOW + 5 * SECOND)
    alive = await records.start_run("node-a", 200, NOW)  # same node name, another process
    await records.beat(alive, NOW + 60 * SECOND)
    alive_call = await _call(records, alive, NOW + 3 * SECOND)
    old_call = await _call(records, None, NOW + 4 * SECOND)  # written before runs existed

    closed = await records.close_dead_runs(NOW + 61 * SECOND, STALE)

    assert closed == [ClosedRun(dead, "node-a", 100, NOW + 10 * SECOND, 2)]
    calls, runs = await _rows(db)
    ended = {i: (c.ended_at, c.outcome, c.next_action) for i, c in calls.items()}
    assert ended == {
        open_call: (NOW + 10 * SECOND, "interrupted", None),
        late_call: (NOW + 12 * SECOND, "interrupted", None),  # not before it started
        done_call: (NOW + 5 * SECOND, "served", "hangup"),
        alive_call: (None, None, None),
        old_call: (None, None, None),
    }
    assert (runs[dead].stopped_at, runs[dead].stop_reason) == (NOW + 61 * SECOND, "died")
    assert (runs[alive].stopped_at, runs[alive].stop_reason) == (None, None)
    assert await records.close_dead_runs(NOW + 61 * SECOND, STALE) == []


async def test_a_beat_revives_a_run_found_dead_and_its_calls_end_for_real(
    records: Records, db: Database
) -> None:
    run = await records.start_run("node-a", 100, NOW)
    call = await _call(records, run, NOW + SECOND)
    assert len(await records.close_dead_runs(NOW + 60 * SECOND, STALE)) == 1  # a long pause

    assert await records.beat(run, NOW + 61 * SECOND) is True
    assert await records.beat(run, NOW + 66 * SECOND) is False
    await _finish(records, call, NOW + 70 * SECOND)
    calls, runs = await _rows(db)
    assert (runs[run].last_seen, runs[run].stopped_at, runs[run].stop_reason) == (
        NOW + 66 * SECOND,
        None,
        None,
    )
    assert (calls[call].ended_at, calls[call].outcome) == (NOW + 70 * SECOND, "served")


async def test_a_clean_stop_ends_what_was_left_open_and_is_never_revived(
    records: Records, db: Database
) -> None:
    run = await records.start_run("node-a", 100, NOW)
    call = await _call(records, run, NOW + SECOND)

    assert await records.stop_run(run, NOW + 9 * SECOND) == 1
    assert await records.stop_run(run, NOW + 20 * SECOND) == 0  # a second stop changes nothing
    with pytest.raises(NotFound):
        await records.beat(run, NOW + 21 * SECOND)
    assert await records.close_dead_runs(NOW + 90 * SECOND, STALE) == []
    calls, runs = await _rows(db)
    assert (runs[run].stopped_at, runs[run].stop_reason) == (NOW + 9 * SECOND, "stopped")
    assert (calls[call].ended_at, calls[call].outcome) == (NOW + 9 * SECOND, "interrupted")


async def test_unfinished_calls_hide_a_dead_runs_calls_before_any_sweep(
    records: Records, db: Database
) -> None:
    now = NOW + 60 * SECOND
    alive = await records.start_run("node-a", 1, NOW)
    await records.beat(alive, now - 5 * SECOND)
    silent = await records.start_run("node-b", 2, NOW)  # killed: no beat since it started
    stopped = await records.start_run("node-c", 3, NOW)
    await records.beat(stopped, now)
    await records.stop_run(stopped, now)
    live_call = await _call(records, alive, NOW + SECOND)
    await _call(records, silent, NOW + 2 * SECOND)
    stopped_call = await _call(records, stopped, NOW + 3 * SECOND)
    await _finish(records, stopped_call, now)
    old_recent = await _call(records, None, NOW + 4 * SECOND)
    await _call(records, None, NOW - timedelta(hours=3))

    listed = await ConsoleRecords(db).unfinished_calls(
        since=now - timedelta(hours=2), now=now, stale_after=STALE
    )
    assert [c.id for c in listed] == [live_call, old_recent]


class HeldOpen(Database):
    """A database whose write transactions wait for ``release`` after their last statement."""

    def __init__(self, db: Database) -> None:
        super().__init__(db.engine)
        self.written = asyncio.Event()
        self.release = asyncio.Event()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        async with super().write() as session:
            yield session
            self.written.set()
            await self.release.wait()


async def _dead_runs(records: Records, count: int) -> dict[int, int]:
    """``count`` runs last seen at NOW, each with one open call: run id -> call id."""
    runs = {}
    for i in range(count):
        run = await records.start_run(f"node-{i}", 1000 + i, NOW)
        runs[run] = await _call(records, run, NOW - i * SECOND)
    return runs


async def test_a_sweep_racing_another_leaves_it_the_runs_it_claimed(
    records: Records, db: Database, database_url: str
) -> None:
    dead = await _dead_runs(records, 3)
    other = HeldOpen(await open_database(database_url))  # another node: its own connections
    try:
        first = asyncio.create_task(Records(other).close_dead_runs(NOW + 60 * SECOND, STALE))
        await other.written.wait()  # runs claimed and calls closed, not committed yet
        second = asyncio.create_task(records.close_dead_runs(NOW + 60 * SECOND, STALE))
        await asyncio.sleep(0.2)  # let it reach the database while the claim is held
        other.release.set()
        claimed_first, claimed_second = await first, await second
    finally:
        await other.close()
    assert [r.run_id for r in claimed_first] == sorted(dead)
    assert [r.calls_closed for r in claimed_first] == [1, 1, 1]
    assert claimed_second == []
    calls, _ = await _rows(db)
    assert {calls[c].ended_at for c in dead.values()} == {NOW}


async def test_simultaneous_sweeps_close_each_run_once(
    records: Records, db: Database, database_url: str
) -> None:
    dead = await _dead_runs(records, 12)
    others = [Records(await open_database(database_url)) for _ in range(3)]
    try:
        results = await asyncio.gather(
            *(r.close_dead_runs(NOW + 60 * SECOND, STALE) for r in [records, *others])
        )
    finally:
        for other in others:
            await other.close()
    claimed = [run.run_id for result in results for run in result]
    assert sorted(claimed) == sorted(dead)  # every run once, by whichever sweeper got it
    assert sum(run.calls_closed for result in results for run in result) == len(dead)
    calls, runs = await _rows(db)
    assert {runs[r].stop_reason for r in dead} == {"died"}
    assert {calls[c].outcome for c in dead.values()} == {"interrupted"}
