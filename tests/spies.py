"""Stand-ins that watch the project's own code from a test: what reaches the password check, the
transactions a database engine runs, and a gate that holds one of them before it writes."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, TypeVar

import pytest
from sqlalchemy import event, util
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from ivr.domain.password import verify_password
from ivr.domain.verifier import PasswordVerifier

Verify = Callable[[str, str], Awaitable[bool]]
T = TypeVar("T")
U = TypeVar("U")


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


class TransactionSpy:
    """The transactions begun on an engine while in the ``with`` block, each named by its first
    statement (``transactions``); a node's heartbeat (the ``runs`` table) is left out."""

    _BACKGROUND = re.compile(r"\bruns\b")

    def __init__(self, engine: AsyncEngine) -> None:
        self.transactions: list[str] = []
        self._engine = engine.sync_engine
        self._begun: set[int] = set()  # connections whose transaction ran no statement yet

    def _on_begin(self, conn: Connection) -> None:
        self._begun.add(id(conn))

    def _on_statement(self, conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if id(conn) not in self._begun or statement.lstrip().upper().startswith("BEGIN"):
            return
        self._begun.discard(id(conn))
        if not self._BACKGROUND.search(statement):
            self.transactions.append(" ".join(statement.split())[:80])

    def __enter__(self) -> TransactionSpy:
        event.listen(self._engine, "begin", self._on_begin)
        event.listen(self._engine, "before_cursor_execute", self._on_statement)
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        event.remove(self._engine, "before_cursor_execute", self._on_statement)
        event.remove(self._engine, "begin", self._on_begin)


# Awaits a coroutine from a synchronous hook of an async engine, through SQLAlchemy's greenlet
# bridge: ``await_`` since 2.1, ``await_only`` before (deprecated from 2.2).
_await_in_hook: Callable[[Awaitable[Any]], Any] = getattr(util, "await_", None) or util.await_only
_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


async def race_to_write(
    first: Callable[[], Awaitable[T]],
    first_engine: AsyncEngine,
    second: Callable[[], Awaitable[U]],
    second_engine: AsyncEngine,
) -> tuple[T, U]:
    """``first`` and ``second``, on two engines on one database (two nodes), made to race:
    ``first`` is held just before its first write (after the reads it decided by) while
    ``second`` runs as far as it can: to its end, or on SQLite to the write lock ``first`` holds
    (its ``BEGIN IMMEDIATE``); then ``first`` goes on. For work on the async engines' sessions:
    the hook waits on the event loop through SQLAlchemy's greenlet bridge. (A test that fails
    waits 10 s at most for each stage.)"""
    held, go, waits = asyncio.Event(), asyncio.Event(), asyncio.Event()

    def hold(_conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if not held.is_set() and _WRITE.match(statement):
            held.set()
            _await_in_hook(go.wait())

    def locked_out(_conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.strip().upper() == "BEGIN IMMEDIATE":
            waits.set()

    hooks = ((first_engine.sync_engine, hold), (second_engine.sync_engine, locked_out))
    for engine, hook in hooks:
        event.listen(engine, "before_cursor_execute", hook)
    try:
        first_task = asyncio.create_task(first())
        async with asyncio.timeout(10):
            await held.wait()
        second_task = asyncio.create_task(second())
        waiting = asyncio.create_task(waits.wait())
        await asyncio.wait([second_task, waiting], timeout=10, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        go.set()
        async with asyncio.timeout(10):
            return await first_task, await second_task
    finally:
        go.set()
        for engine, hook in hooks:
            event.remove(engine, "before_cursor_execute", hook)
