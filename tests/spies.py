"""Stand-ins that watch the project's own code from a test: what reaches the password check."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from ivr.domain.password import verify_password
from ivr.domain.verifier import PasswordVerifier

Verify = Callable[[str, str], Awaitable[bool]]


class PasswordCheckSpy:
    """Wraps an argon2 check: records each password that reaches it (``checked``), and
    ``hold()`` makes the checks wait at ``gate`` until the test sets it."""

    def __init__(self, real: Verify) -> None:
        self.checked: list[str] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self._started = asyncio.Condition()
        self._real = real

    @property
    def checks(self) -> int:
        return len(self.checked)

    def hold(self) -> None:
        self.gate.clear()

    async def until_started(self, count: int) -> None:
        """Until ``count`` checks have started (a test that fails waits 10 s at most)."""
        async with asyncio.timeout(10), self._started:
            await self._started.wait_for(lambda: self.checks >= count)

    async def __call__(self, stored_hash: str, password: str) -> bool:
        self.checked.append(password)
        async with self._started:
            self._started.notify_all()
        await self.gate.wait()
        return await self._real(stored_hash, password)


def spy_on_query_passwords(monkeypatch: pytest.MonkeyPatch) -> PasswordCheckSpy:
    """Every query-password check, of every node in this process, through one spy (which then
    verifies the password for real)."""

    async def really(stored_hash: str, password: str) -> bool:
        return await asyncio.to_thread(verify_password, stored_hash, password)

    spy = PasswordCheckSpy(really)

    async def verify(self: PasswordVerifier, stored_hash: str, password: str) -> bool:
        return await spy(stored_hash, password)

    monkeypatch.setattr(PasswordVerifier, "verify", verify)
    return spy
