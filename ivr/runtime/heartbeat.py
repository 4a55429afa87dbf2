"""This process in the ``runs`` table: registered at start, a heartbeat while it runs, a clean stop.

At start, and every few beats after, it also closes the runs whose heartbeat went stale (a process
killed mid-call, here or on another node sharing the database) and their open calls: those end as
``interrupted`` at the time the dead process was last seen (``ivr.store.runs``). A run of this
node whose process no longer exists on this host is closed at once, without waiting for its
heartbeat to go stale: a restart right after a crash finds the crashed calls closed.

If the database is down at start, the process still takes calls (they hear the apology and go to
an agent) and registering is retried at every beat; ``run_id`` is None until then.

A beat that fails (the database is down) is logged and tried again at the next interval: the calls
go on, and an outage shorter than ``stale_after`` leaves no trace. After a longer one other nodes
may have closed this run; its next beat revives it, with a warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from typing import Protocol

from ivr.runtime.clock import Clock, SystemClock
from ivr.runtime.processes import process_runs
from ivr.store.runs import ClosedRun

log = logging.getLogger(__name__)

__all__ = ["SWEEP_EVERY", "Heartbeat", "RunRegistry"]

SWEEP_EVERY = 3  # beats between two sweeps for dead runs (each costs one UPDATE)


class RunRegistry(Protocol):
    """What the heartbeat needs of the store (``ivr.store.records.Records`` has it)."""

    async def start_run(self, node: str, pid: int, now: datetime) -> int: ...
    async def beat(self, run_id: int, now: datetime) -> bool: ...
    async def stop_run(self, run_id: int, now: datetime) -> int: ...
    async def open_runs(self, node: str) -> list[tuple[int, int]]: ...
    async def close_dead_runs(
        self, now: datetime, stale_after: timedelta, *, gone: Collection[int] = ()
    ) -> list[ClosedRun]: ...


class Heartbeat:
    """``start`` registers the run and returns its id (give it to ``start_call``); ``close``
    marks the clean stop. Every process sharing a database must use the same ``stale_after``."""

    def __init__(
        self,
        records: RunRegistry,
        *,
        node: str,
        interval: timedelta,
        stale_after: timedelta,
        clock: Clock | None = None,
        on_dead: Callable[[str], None] = lambda _node: None,
    ) -> None:
        if interval <= timedelta(0) or stale_after <= interval:
            raise ValueError("the heartbeat needs 0 < interval < stale_after")
        self._records = records
        self._node = node
        self._on_dead = on_dead  # told of each node found dead (the consoles drop its calls)
        self._interval = interval
        self._stale_after = stale_after
        self._clock = clock or SystemClock()
        self._run_id: int | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def run_id(self) -> int | None:
        """This process's run, once registered (calls record it: ``start_call(run_id=...)``)."""
        return self._run_id

    async def start(self) -> None:
        """Register this process and close dead runs; with the database down, keep trying."""
        if self._task is not None:
            raise RuntimeError("the heartbeat has started already")
        try:
            await self._register()
        except Exception:
            log.exception("could not register this process; retrying at every beat")
        self._task = asyncio.create_task(self._beating(), name="heartbeat")

    async def _register(self) -> None:
        pid = os.getpid()
        self._run_id = await self._records.start_run(self._node, pid, self._clock.now())
        log.info("run %d on node %s (pid %d) started", self._run_id, self._node, pid)
        try:
            await self._sweep()
        except Exception:
            log.exception("could not close dead runs at start; trying again later")

    async def close(self) -> None:
        """Stop beating and mark the run stopped (if the database is down, a sweep closes it).

        Call it after the calls have ended (the AGI server stopped), before the database closes.
        """
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._run_id is None:
            return
        run_id, self._run_id = self._run_id, None
        try:
            left_open = await self._records.stop_run(run_id, self._clock.now())
        except Exception:
            log.exception("could not mark run %d stopped; it will be closed as dead", run_id)
            return
        if left_open:
            log.warning("run %d stopped with %d calls open: now interrupted", run_id, left_open)

    async def _beating(self) -> None:
        beats = 0
        failing = False
        while True:
            await self._clock.sleep(self._interval.total_seconds())
            beats += 1
            try:
                if self._run_id is None:
                    await self._register()
                elif await self._records.beat(self._run_id, self._clock.now()):
                    log.warning(
                        "run %d on node %s had been found dead (no heartbeat for %s) and runs "
                        "again; its calls in progress were closed as interrupted and are "
                        "corrected as they end",
                        self._run_id,
                        self._node,
                        self._stale_after,
                    )
                if beats % SWEEP_EVERY == 0:
                    await self._sweep()
            except Exception:
                # Once per outage with the trace; the database may stay down for a while.
                if not failing:
                    log.exception("heartbeat of run %s failed; retrying every beat", self._run_id)
                failing = True
                continue
            if failing:
                log.info("heartbeat of run %s is back", self._run_id)
                failing = False

    async def _sweep(self) -> None:
        gone = [
            run_id
            for run_id, pid in await self._records.open_runs(self._node)
            if run_id != self._run_id and not process_runs(pid)
        ]
        now = self._clock.now()
        for run in await self._records.close_dead_runs(now, self._stale_after, gone=gone):
            log.warning(
                "run %d on node %s (pid %d) died; last seen %s: %d calls closed as interrupted",
                run.run_id,
                run.node,
                run.pid,
                run.last_seen.isoformat(),
                run.calls_closed,
            )
            self._on_dead(run.node)
