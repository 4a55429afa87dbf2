"""A clock for the runtime's background jobs in tests: time stands still until the test says."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta


class StepClock:
    """``ivr.runtime.clock.Clock`` whose sleeps end only when the test calls ``tick``; ``tick``
    returns once the job has done its work and sleeps again. ``slept``: every sleep asked for."""

    def __init__(self, start: datetime) -> None:
        self.time = start
        self.slept: list[float] = []
        self._asleep = asyncio.Event()
        self._wake: asyncio.Future[None] | None = None

    def now(self) -> datetime:
        return self.time

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self._wake = asyncio.get_running_loop().create_future()
        self._asleep.set()
        await self._wake

    async def tick(self) -> None:
        await self._asleep.wait()
        self._asleep.clear()
        self.time += timedelta(seconds=self.slept[-1])
        assert self._wake is not None
        self._wake.set_result(None)
        await self._asleep.wait()
