"""The Asterisk supervisor of ``hotline up``: an Asterisk that dies comes back, one that keeps
dying is given up on with a reason. A stand-in Asterisk dies on cue; the real one is killed in
``tests/acceptance``."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, cast

import pytest

from ivr.telephony.asterisk import LocalAsterisk
from ivr.telephony.errors import AsteriskStartError
from ivr.telephony.supervisor import AsteriskSupervisor, RestartPolicy

FAST = RestartPolicy(delays=(0.01, 0.02), max_failures=3, window_s=60)


class StandIn:
    """What the supervisor uses of ``LocalAsterisk``: start, wait for an exit, restart, stop."""

    def __init__(self, failing_starts: int = 0) -> None:
        self.layout = type("Layout", (), {"log_file": Path("/var/log/asterisk.log")})()
        self.pid: int | None = None
        self.starts = 0
        self.stops = 0
        self.failing_starts = failing_starts
        self._exit: asyncio.Future[int] | None = None

    async def start(self) -> None:
        self.starts += 1
        if self.starts > 1 and self.failing_starts:
            self.failing_starts -= 1
            raise AsteriskStartError("port taken")
        self.pid = 1000 + self.starts
        self._exit = asyncio.get_running_loop().create_future()

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def stop(self) -> None:
        self.stops += 1

    async def exited(self) -> int:
        assert self._exit is not None
        return await self._exit

    def die(self, status: int = -9) -> None:
        assert self._exit is not None
        self._exit.set_result(status)


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def supervise(stand_in: StandIn, clock: Any = None) -> AsteriskSupervisor:
    asterisk = cast(LocalAsterisk, stand_in)
    return AsteriskSupervisor(asterisk, policy=FAST, clock=clock or Clock())


async def until(check: Any, within: float = 2.0) -> None:
    async with asyncio.timeout(within):
        while not check():  # noqa: ASYNC110 - the supervisor runs in the same loop
            await asyncio.sleep(0.005)


async def test_an_asterisk_that_dies_is_started_again(caplog: pytest.LogCaptureFixture) -> None:
    stand_in = StandIn()
    supervisor = supervise(stand_in)
    await supervisor.start()
    try:
        for restart in (1, 2):
            stand_in.die()
            await until(lambda r=restart: supervisor.restarts == r)  # type: ignore[misc]
        assert stand_in.starts == 3 and stand_in.pid == 1003
        assert not supervisor.gave_up.is_set()
        assert "Asterisk exited unexpectedly (status -9)" in caplog.text
        assert "Asterisk restarted (restart 2), pid 1003" in caplog.text
    finally:
        await supervisor.close()
    assert stand_in.stops == 3  # before each restart, and at the end


async def test_failures_spread_over_time_never_add_up() -> None:
    clock = Clock()
    stand_in = StandIn()
    supervisor = supervise(stand_in, clock)
    await supervisor.start()
    try:
        for restart in range(1, 6):  # more than max_failures, each an hour apart
            clock.now += 3600
            stand_in.die()
            await until(lambda r=restart: supervisor.restarts == r)  # type: ignore[misc]
        assert not supervisor.gave_up.is_set()
    finally:
        await supervisor.close()


async def test_an_asterisk_that_keeps_failing_is_given_up_on_with_a_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stand_in = StandIn(failing_starts=10)
    supervisor = supervise(stand_in)
    await supervisor.start()
    try:
        with caplog.at_level(logging.WARNING):
            stand_in.die()
            await asyncio.wait_for(supervisor.gave_up.wait(), 2)
        assert supervisor.restarts == 0
        assert supervisor.reason.startswith("Asterisk failed 4 times within 60 s")
        assert "/var/log/asterisk.log" in supervisor.reason
        assert caplog.text.count("Asterisk did not start again: port taken") == 3
    finally:
        await supervisor.close()
