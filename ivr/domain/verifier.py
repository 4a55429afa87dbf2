"""The bounded pool that verifies (and hashes) query passwords: argon2id takes tens of
milliseconds of CPU by design, so it runs on threads of its own, never on the event loop nor on
the loop's default executor that other blocking work shares. A burst of logins then delays only
the callers who keyed a password; every other caller's command goes on.

argon2-cffi releases the GIL while it hashes, so threads run in parallel on the cores. The pool
has one thread per core this process may run on, each below the event loop's priority
(``bench/agi_load.py`` compared that with one thread fewer: on cores shared with other work, one
thread could not keep up with a burst of logins, and the loop gained nothing measurable).

Nothing here logs or keeps a password.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from ivr.config import Settings
from ivr.domain.password import hash_password, verify_password

__all__ = ["PasswordVerifier", "core_count", "verifier_threads"]

T = TypeVar("T")
# How much lower than the process the pool's threads run (Linux nice is per thread): when the
# cores are all busy the scheduler gives the event loop the CPU first, so a burst of logins slows
# the verifications, not the other callers' commands.
NICENESS = 10


def core_count() -> int:
    """The cores this process may run on (its CPU affinity, not the machine's count)."""
    return len(os.sched_getaffinity(0))


def verifier_threads(settings: Settings) -> int:
    """The pool's threads: ``HOTLINE_PASSWORD_THREADS``, or one per core."""
    return settings.password_threads or core_count()


def _yield_the_cpu() -> None:
    """Run this pool thread below the event loop's priority (where the system lets it)."""
    thread = threading.get_native_id()
    with contextlib.suppress(OSError):
        current = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, min(19, current + NICENESS))


class PasswordVerifier:
    """``verify`` and ``hash`` on ``threads`` threads of their own. ``crowded``: more than
    ``hold_after`` verifications are already waiting for a thread, so the next caller waits long
    enough to be told (the flows play the hold prompt meanwhile)."""

    def __init__(self, threads: int, hold_after: int) -> None:
        if threads < 1:
            raise ValueError(f"a password pool needs at least one thread, not {threads}")
        self.threads = threads
        self.hold_after = hold_after
        self._pool = ThreadPoolExecutor(
            max_workers=threads, thread_name_prefix="password", initializer=_yield_the_cpu
        )
        self._in_flight = 0  # submitted, not finished: changed on the event loop only

    @classmethod
    def from_settings(cls, settings: Settings) -> PasswordVerifier:
        threads = verifier_threads(settings)
        return cls(threads, settings.password_hold_after or 2 * threads)

    @property
    def under_way(self) -> int:
        """Verifications and hashes submitted and not finished."""
        return self._in_flight

    @property
    def waiting(self) -> int:
        """Those of them no thread has taken yet."""
        return max(0, self._in_flight - self.threads)

    @property
    def crowded(self) -> bool:
        return self.waiting > self.hold_after

    async def verify(self, stored_hash: str, password: str) -> bool:
        """True when ``password`` matches ``stored_hash`` (never raises for a wrong one)."""
        return await self._run(verify_password, stored_hash, password)

    async def hash(self, password: str) -> str:
        return await self._run(hash_password, password)

    async def _run(self, work: Callable[..., T], *args: str) -> T:
        future = asyncio.wrap_future(self._pool.submit(work, *args))
        self._in_flight += 1
        try:
            return await future
        finally:
            self._in_flight -= 1

    async def close(self) -> None:
        """Finish the verifications under way, drop those not started; later calls raise."""
        await asyncio.to_thread(self._pool.shutdown, wait=True, cancel_futures=True)
