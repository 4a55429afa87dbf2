"""The heartbeat: this process's run in the database, dead runs closed, database faults survived."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Collection
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from ivr.config import Settings
from ivr.runtime.heartbeat import SWEEP_EVERY, Heartbeat
from ivr.store.database import open_database, upgrade_database
from ivr.store.models import Call, Run
from ivr.store.records import Records
from ivr.store.runs import ClosedRun
from tests.clocks import StepClock
from tests.store.support import NOW

INTERVAL = timedelta(seconds=5)
STALE = 3 * INTERVAL
HOUR = timedelta(hours=1)

# A hotline process in miniature: registers, beats every 0.1 s, takes a call, and once a beat has
# landed after the call's start, says so and waits to be killed.
DOOMED = """
import asyncio, sys
from datetime import timedelta
from sqlalchemy import select
from ivr.runtime.heartbeat import Heartbeat
from ivr.store.models import Run
from ivr.store.records import open_records
from ivr.store.types import utcnow

async def main():
    records = await open_records(sys.argv[1])
    beat = timedelta(seconds=0.1)
    heartbeat = Heartbeat(records, node="doomed", interval=beat, stale_after=3 * beat)
    await heartbeat.start()
    run_id = heartbeat.run_id
    started = utcnow()
    await records.start_call("12333", "1380", "k.1", "PJSIP/x", "zh", started, run_id=run_id)
    while True:
        async with records.db.read() as session:
            if await session.scalar(select(Run.last_seen).where(Run.id == run_id)) > started:
                break
        await asyncio.sleep(0.05)
    print(run_id, flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


class Flaky:
    """The records, with the database down for the next ``failures`` beats and stops."""

    def __init__(self, records: Records, failures: int = 0) -> None:
        self.records = records
        self.failures = failures

    def _down(self) -> None:
        if self.failures:
            self.failures -= 1
            raise OperationalError("UPDATE runs", {}, ConnectionRefusedError("database down"))

    async def start_run(self, node: str, pid: int, now: datetime) -> int:
        self._down()
        return await self.records.start_run(node, pid, now)

    async def beat(self, run_id: int, now: datetime) -> bool:
        self._down()
        return await self.records.beat(run_id, now)

    async def stop_run(self, run_id: int, now: datetime) -> int:
        self._down()
        return await self.records.stop_run(run_id, now)

    async def open_runs(self, node: str) -> list[tuple[int, int]]:
        return await self.records.open_runs(node)

    async def close_dead_runs(
        self, now: datetime, stale_after: timedelta, *, gone: Collection[int] = ()
    ) -> list[ClosedRun]:
        return await self.records.close_dead_runs(now, stale_after, gone=gone)


@pytest.fixture
async def records(sqlite_url: str) -> AsyncIterator[Records]:
    await upgrade_database(sqlite_url)
    records = Records(await open_database(sqlite_url))
    try:
        yield records
    finally:
        await records.close()


async def _run(records: Records, run_id: int) -> Run:
    async with records.db.read() as session:
        run = await session.get(Run, run_id)
    assert run is not None
    return run


async def _kill_a_process_mid_call(records: Records, url: str) -> tuple[int, datetime]:
    """Run ``DOOMED`` and ``kill -9`` it mid-call: its run id, and its last heartbeat."""
    doomed = await asyncio.create_subprocess_exec(
        sys.executable, "-c", DOOMED, url, stdout=asyncio.subprocess.PIPE
    )
    assert doomed.stdout is not None
    try:
        killed = int(await asyncio.wait_for(doomed.stdout.readline(), 30))
    finally:
        doomed.send_signal(signal.SIGKILL)  # kill -9: no clean stop, the run stays open
        await doomed.wait()
    return killed, (await _run(records, killed)).last_seen


def _started(heartbeat: Heartbeat) -> int:
    assert heartbeat.run_id is not None
    return heartbeat.run_id


def _heartbeat(records: Records | Flaky, clock: StepClock) -> Heartbeat:
    return Heartbeat(records, node="node-b", interval=INTERVAL, stale_after=STALE, clock=clock)


async def test_start_closes_dead_runs_then_beats_every_interval_until_closed(
    records: Records, caplog: pytest.LogCaptureFixture
) -> None:
    killed = await records.start_run("node-a", 4242, NOW - HOUR)
    cut = (
        await records.start_call("12333", "1380", "1.1", "PJSIP/x", "zh", NOW - HOUR, run_id=killed)
    ).call_id
    clock = StepClock(NOW)
    heartbeat = _heartbeat(records, clock)

    with caplog.at_level(logging.INFO, logger="ivr.runtime.heartbeat"):
        await heartbeat.start()
        run_id = _started(heartbeat)
        await clock.tick()
        await clock.tick()
        await heartbeat.close()

    assert f"run {killed} on node node-a (pid 4242) died" in caplog.text
    assert f"last seen {(NOW - HOUR).isoformat()}: 1 calls closed as interrupted" in caplog.text
    async with records.db.read() as session:
        call = await session.scalar(select(Call).where(Call.id == cut))
    assert call is not None and (call.ended_at, call.outcome) == (NOW - HOUR, "interrupted")
    run = await _run(records, run_id)
    assert (run.node, run.started_at) == ("node-b", NOW)
    assert (run.last_seen, run.stopped_at, run.stop_reason) == (
        NOW + 2 * INTERVAL,
        NOW + 2 * INTERVAL,
        "stopped",
    )


async def test_dead_runs_are_swept_every_few_beats(records: Records) -> None:
    clock = StepClock(NOW)
    heartbeat = _heartbeat(records, clock)
    await heartbeat.start()
    killed = await records.start_run("node-a", 4242, NOW - HOUR)  # died after our start
    try:
        for _ in range(SWEEP_EVERY - 1):
            await clock.tick()
        assert (await _run(records, killed)).stop_reason is None
        await clock.tick()
        assert (await _run(records, killed)).stop_reason == "died"
    finally:
        await heartbeat.close()


async def test_a_database_outage_is_logged_once_and_the_beat_retried(
    records: Records, caplog: pytest.LogCaptureFixture
) -> None:
    flaky = Flaky(records)
    clock = StepClock(NOW)
    heartbeat = _heartbeat(flaky, clock)
    await heartbeat.start()
    run_id = _started(heartbeat)
    flaky.failures = 2
    with caplog.at_level(logging.INFO, logger="ivr.runtime.heartbeat"):
        await clock.tick()
        await clock.tick()
        assert (await _run(records, run_id)).last_seen == NOW
        await clock.tick()
    assert (await _run(records, run_id)).last_seen == NOW + 3 * INTERVAL
    failed = [r for r in caplog.records if r.exc_info]
    assert len(failed) == 1 and "retrying" in failed[0].getMessage()
    assert "is back" in caplog.text

    flaky.failures = 1
    await heartbeat.close()  # the database is down at the stop: logged, not raised
    assert (await _run(records, run_id)).stopped_at is None  # left for a sweep to close


async def test_a_run_found_dead_after_a_pause_is_revived_by_its_next_beat(
    records: Records, caplog: pytest.LogCaptureFixture
) -> None:
    clock = StepClock(NOW)
    heartbeat = _heartbeat(records, clock)
    await heartbeat.start()
    run_id = _started(heartbeat)
    try:
        # Another node, an hour on: this process looks dead to it.
        (closed,) = await records.close_dead_runs(NOW + HOUR, STALE)
        assert closed.run_id == run_id
        with caplog.at_level(logging.WARNING, logger="ivr.runtime.heartbeat"):
            await clock.tick()
        run = await _run(records, run_id)
        assert (run.last_seen, run.stopped_at, run.stop_reason) == (NOW + INTERVAL, None, None)
        assert "had been found dead" in caplog.text
    finally:
        await heartbeat.close()


async def test_the_calls_of_a_killed_process_end_at_its_last_heartbeat_at_the_next_start(
    records: Records, sqlite_url: str
) -> None:
    killed, went_away = await _kill_a_process_mid_call(records, sqlite_url)

    # The next start, whenever it comes: a clock an hour on makes the dead run stale at once.
    heartbeat = _heartbeat(records, StepClock(went_away + HOUR))
    await heartbeat.start()
    await heartbeat.close()

    run = await _run(records, killed)
    assert (run.stopped_at, run.stop_reason) == (went_away + HOUR, "died")
    async with records.db.read() as session:
        call = await session.scalar(select(Call).where(Call.run_id == killed))
    assert call is not None and (call.ended_at, call.outcome) == (went_away, "interrupted")


async def test_a_crashed_run_of_this_node_is_closed_at_the_next_start_without_waiting(
    records: Records, sqlite_url: str
) -> None:
    killed, went_away = await _kill_a_process_mid_call(records, sqlite_url)

    # Restarted at once, on the same node: its heartbeat is not stale yet, but its process is
    # gone from this host.
    clock = StepClock(went_away + timedelta(seconds=0.1))
    heartbeat = Heartbeat(records, node="doomed", interval=INTERVAL, stale_after=STALE, clock=clock)
    await heartbeat.start()
    await heartbeat.close()
    async with records.db.read() as session:
        call = await session.scalar(select(Call).where(Call.run_id == killed))
    assert call is not None and (call.ended_at, call.outcome) == (went_away, "interrupted")
    assert (await _run(records, killed)).stop_reason == "died"


async def test_a_run_of_this_node_whose_process_lives_is_left_alone(records: Records) -> None:
    other = await records.start_run("node-b", os.getppid(), NOW)  # alive: the test's parent
    clock = StepClock(NOW)
    heartbeat = _heartbeat(records, clock)
    await heartbeat.start()
    await heartbeat.close()
    assert (await _run(records, other)).stopped_at is None


async def test_with_the_database_down_at_start_the_process_registers_later(
    records: Records, caplog: pytest.LogCaptureFixture
) -> None:
    clock = StepClock(NOW)
    heartbeat = _heartbeat(Flaky(records, failures=1), clock)
    await heartbeat.start()  # does not raise: calls are taken (and apologised to) meanwhile
    assert heartbeat.run_id is None and "could not register" in caplog.text
    await clock.tick()
    run = await _run(records, _started(heartbeat))
    assert run.started_at == NOW + INTERVAL and run.stopped_at is None
    await heartbeat.close()


def test_a_stale_after_not_above_the_interval_is_refused(records: Records) -> None:
    with pytest.raises(ValueError, match="interval < stale_after"):
        Heartbeat(records, node="n", interval=INTERVAL, stale_after=INTERVAL)


def test_settings_name_the_node_and_set_the_heartbeat(tmp_path: Path) -> None:
    defaults = Settings(data_dir=tmp_path)
    assert defaults.node == socket.gethostname()
    assert (defaults.heartbeat_interval, defaults.heartbeat_stale_after) == (INTERVAL, STALE)
    env = {
        "HOTLINE_DATA_DIR": str(tmp_path),
        "HOTLINE_NODE_NAME": "pbx-a",
        "HOTLINE_HEARTBEAT_SECONDS": "2",
    }
    settings = Settings.load(env)
    assert settings.node == "pbx-a"
    assert settings.heartbeat_stale_after == timedelta(seconds=6)
