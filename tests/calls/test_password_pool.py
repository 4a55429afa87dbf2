"""A burst of logins beyond what the password pool takes at once, through the real FastAGI
socket: the callers queued beyond the limit hear the hold prompt, then get their balance as the
others do; a wrong password keyed in the queue still counts towards the lock; and the stack closes
the pool when it stops.

The pool has one thread and lets one verification wait before callers are told to hold; the
thread's first verification is held at a gate until the whole burst has keyed its passwords.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from ivr.config import Settings
from ivr.domain import verifier as verifier_module
from ivr.domain.verifier import PasswordVerifier
from ivr.stack import running_core
from ivr.store.database import upgrade_database
from tests.agipeer import PeerResult
from tests.calls.conftest import RunningHotline, running_hotline
from tests.calls.test_full_calls import call, keyed_id
from tests.calls.test_lockout_race import citizen_row, heard, security_events, wrong_passwords


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[threading.Event]:
    """Verifications wait in their thread until the test sets the gate (set again at the end:
    a failing test must not leave the pool's thread waiting)."""
    opened = threading.Event()
    real = verifier_module.verify_password

    def gated(stored_hash: str, password: str) -> bool:
        opened.wait(10)
        return real(stored_hash, password)

    monkeypatch.setattr(verifier_module, "verify_password", gated)
    yield opened  # type: ignore[misc]
    opened.set()


@pytest.fixture
async def crowded(
    database_url: str, tmp_path: Path, gate: threading.Event
) -> AsyncIterator[RunningHotline]:
    env = {"HOTLINE_PASSWORD_THREADS": "1", "HOTLINE_PASSWORD_HOLD_AFTER": "1"}
    async with running_hotline(database_url, tmp_path, env) as hotline:
        try:
            yield hotline
        finally:
            gate.set()


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not condition():  # noqa: ASYNC110 - the pool's own count, polled
            await asyncio.sleep(0.01)


async def test_callers_queued_beyond_the_limit_hear_the_hold_prompt_then_their_balance(
    crowded: RunningHotline, gate: threading.Event
) -> None:
    pool = crowded.app.verifier
    right = crowded.citizens[:4]
    wrong_caller = crowded.citizens[4]
    wrong = wrong_passwords(wrong_caller, 1)[0]
    calls: list[asyncio.Task[PeerResult]] = []
    keyed = [(c, c.initial_password) for c in right] + [(wrong_caller, wrong)]
    for count, (citizen, password) in enumerate(keyed, start=1):
        entries = ["1", keyed_id(citizen), password + "#", "1"]
        calls.append(asyncio.create_task(call(crowded, "12333", entries, hang_up_when_done=True)))
        await until(lambda count=count: pool.under_way == count)  # in the queue, in this order
    # One verifying, four waiting: the first three were not told to hold, the last two were
    # (more than one waited before them), and hear it while their checks wait.
    gate.set()
    told = [heard(result) for result in await asyncio.gather(*calls)]
    held = ["password_hold" in sounds for sounds in told]
    assert held == [False, False, False, True, True]
    for sounds in told[:4]:
        assert "pension_balance_is" in sounds
    before_balance = told[3][: told[3].index("pension_balance_is")]
    assert before_balance.index("password_hold") < before_balance.index("query_menu")
    # The wrong password keyed in the queue counts as any other.
    assert "password_wrong" in told[4] and "pension_balance_is" not in told[4]
    row = await citizen_row(crowded, wrong_caller)
    assert row.password_failures == 1
    assert "password_failure" in await security_events(crowded, wrong_caller)


async def test_the_stack_closes_the_pool(tmp_path: Path) -> None:
    settings = Settings.load(env={"HOTLINE_ID_HASH_KEY": "test-key"}, data_dir=tmp_path / "var")
    await upgrade_database(settings.database_url)
    async with running_core(settings) as core:
        pool: PasswordVerifier = core.verifier
        stored = await pool.hash("246813")
        assert await pool.verify(stored, "246813")
    with pytest.raises(RuntimeError):
        await pool.verify(stored, "246813")
