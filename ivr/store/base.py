"""What every part of the records API shares: the database and small helpers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import overload

from ivr.store.database import Database

log = logging.getLogger(__name__)

__all__ = ["RecordsBase", "clip"]


@overload
def clip(text: str, length: int) -> str: ...
@overload
def clip(text: None, length: int) -> None: ...
@overload
def clip(text: str | None, length: int) -> str | None: ...


def clip(text: str | None, length: int) -> str | None:
    """Cut free text to its column's length (a long note must never lose a call's record)."""
    return None if text is None else text[:length]


class RecordsBase:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._later: set[asyncio.Task[None]] = set()

    def later(self, write: Awaitable[None]) -> None:
        """Run a write the caller need not wait for (a language choice kept): the caller hears
        the next prompt while it queues for the writer; ``settle`` waits for all of them."""
        task = asyncio.ensure_future(write)
        self._later.add(task)
        task.add_done_callback(self._settled)

    def _settled(self, task: asyncio.Task[None]) -> None:
        self._later.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a deferred write failed", exc_info=task.exception())

    async def settle(self) -> None:
        """Wait for the deferred writes (at the end of a call, and before closing)."""
        while self._later:
            await asyncio.gather(*self._later, return_exceptions=True)

    async def close(self) -> None:
        await self.settle()
        await self.db.close()
