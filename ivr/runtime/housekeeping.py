"""The daily work of a running hotline: the retention policy's prune, at ``prune_hour`` Beijing
time (a quiet hour for the lines), audited as ``system``.

Every node sharing a database runs it; the store's prune claims each row once, so two nodes at
the same hour share the work instead of doing it twice. A prune that fails (the database down)
is logged and tried again the next day; ``hotline db prune`` does the same by hand meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Protocol

from ivr.domain.retention import RetentionPolicy
from ivr.runtime.clock import Clock, SystemClock
from ivr.store.retention import SYSTEM, PruneReport

log = logging.getLogger(__name__)

__all__ = ["Housekeeping", "Pruner"]


class Pruner(Protocol):
    """What the job needs of the store (``ivr.store.retention.Retention`` has it)."""

    @property
    def policy(self) -> RetentionPolicy: ...

    async def prune(self, now: datetime, *, actor: str = SYSTEM) -> PruneReport: ...


class Housekeeping:
    """``start`` schedules the daily prune; ``close`` stops it. A prune cut short keeps the
    batches it committed; the batch under way rolls back and waits for the next prune."""

    def __init__(self, retention: Pruner, *, clock: Clock | None = None) -> None:
        self._retention = retention
        self._clock = clock or SystemClock()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("the housekeeping has started already")
        self._task = asyncio.create_task(self._daily(), name="housekeeping")

    async def close(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _daily(self) -> None:
        policy = self._retention.policy
        while True:
            now = self._clock.now()
            at = policy.next_prune(now)
            await self._clock.sleep((at - now).total_seconds())
            try:
                report = await self._retention.prune(self._clock.now(), actor=SYSTEM)
            except Exception:
                log.exception("the daily prune failed; trying again tomorrow")
                continue
            log.info("daily prune: deleted %s", report.summary())
