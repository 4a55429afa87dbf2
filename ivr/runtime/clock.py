"""The clock of the runtime's background jobs (heartbeat, housekeeping): the time, and a sleep.

Jobs take it at construction, so a test steps through their schedule without waiting.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Protocol

from ivr.store.types import utcnow

__all__ = ["Clock", "SystemClock"]


class Clock(Protocol):
    def now(self) -> datetime: ...
    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return utcnow()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
