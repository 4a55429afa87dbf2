"""Keeping the local Asterisk running under ``hotline up``.

When Asterisk exits without being asked to (a crash, an out-of-memory kill, ``kill -9``), it is
started again after a back-off; each restart is logged and counted. An Asterisk that keeps failing
in a short window is not something a restart fixes: the supervisor gives up, says why, and sets
``gave_up`` so that ``hotline up`` stops with that message instead of spinning.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ivr.telephony.asterisk import LocalAsterisk
from ivr.telephony.errors import TelephonyError

__all__ = ["AsteriskSupervisor", "RestartPolicy"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RestartPolicy:
    delays: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)  # before each attempt; the last repeats
    max_failures: int = 5  # exits or failed starts within the window before giving up
    window_s: float = 300.0


class AsteriskSupervisor:
    def __init__(
        self,
        asterisk: LocalAsterisk,
        *,
        policy: RestartPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.asterisk = asterisk
        self.policy = policy or RestartPolicy()
        self.clock = clock
        self.restarts = 0  # successful restarts since the start
        self.gave_up = asyncio.Event()
        self.reason = ""  # why it gave up
        self._failures: deque[float] = deque()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.asterisk.start()
        self._task = asyncio.create_task(self._watch(), name="asterisk-supervisor")

    async def close(self) -> None:
        """Stop watching (an exit now is asked for), then stop Asterisk."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.asterisk.stop()

    async def _watch(self) -> None:
        while True:
            code = await self.asterisk.exited()
            log.error(
                "Asterisk exited unexpectedly (status %s); calls in progress were cut. See %s",
                code,
                self.asterisk.layout.log_file,
            )
            if not await self._bring_back():
                return

    async def _bring_back(self) -> bool:
        """Restart with back-off until it runs (True) or there were too many failures (False)."""
        while True:
            self._failed()
            if len(self._failures) > self.policy.max_failures:
                self.reason = (
                    f"Asterisk failed {len(self._failures)} times within "
                    f"{self.policy.window_s:.0f} s; not restarting it again. "
                    f"See {self.asterisk.layout.log_file}"
                )
                log.critical(self.reason)
                self.gave_up.set()
                return False
            delays = self.policy.delays
            delay = delays[min(len(self._failures), len(delays)) - 1]
            log.warning("restarting Asterisk in %.0f s", delay)
            await asyncio.sleep(delay)
            try:
                await self.asterisk.restart()
            except TelephonyError as exc:
                log.error("Asterisk did not start again: %s", exc)
                continue
            self.restarts += 1
            log.warning("Asterisk restarted (restart %d), pid %s", self.restarts, self.asterisk.pid)
            return True

    def _failed(self) -> None:
        now = self.clock()
        self._failures.append(now)
        while self._failures and self._failures[0] < now - self.policy.window_s:
            self._failures.popleft()
