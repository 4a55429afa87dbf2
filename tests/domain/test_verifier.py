"""The query passwords' own pool: sized to the cores, verifies off the event loop, says when a
caller should be told to hold, and refuses work once closed."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest

from ivr.config import Settings
from ivr.domain import verifier as verifier_module
from ivr.domain.password import hash_password
from ivr.domain.verifier import NICENESS, PasswordVerifier, verifier_threads

STORED = hash_password("246813")


def test_the_pool_has_one_thread_per_core_this_process_may_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(verifier_module.os, "sched_getaffinity", lambda pid: {0, 1, 2, 5})
    assert verifier_threads(Settings()) == 4
    pool = PasswordVerifier.from_settings(Settings())
    assert (pool.threads, pool.hold_after) == (4, 8)  # hold beyond twice the threads waiting
    asyncio.run(pool.close())


def test_the_settings_choose_the_threads_and_the_hold_limit() -> None:
    settings = Settings.load(
        env={"HOTLINE_PASSWORD_THREADS": "3", "HOTLINE_PASSWORD_HOLD_AFTER": "10"}
    )
    pool = PasswordVerifier.from_settings(settings)
    assert (pool.threads, pool.hold_after) == (3, 10)
    asyncio.run(pool.close())


async def test_it_verifies_and_hashes() -> None:
    pool = PasswordVerifier(threads=2, hold_after=4)
    try:
        assert await pool.verify(STORED, "246813")
        assert not await pool.verify(STORED, "246814")
        assert not await pool.verify("not a hash", "246813")
        assert await pool.verify(await pool.hash("135790"), "135790")
    finally:
        await pool.close()


async def test_crowded_once_more_than_the_limit_wait_for_a_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gate = threading.Event()

    def held(stored_hash: str, password: str) -> bool:
        gate.wait(10)
        return password == "246813"

    monkeypatch.setattr(verifier_module, "verify_password", held)
    pool = PasswordVerifier(threads=1, hold_after=2)
    checks = []
    try:
        for expected_waiting in (0, 0, 1, 2):
            assert pool.waiting == expected_waiting and not pool.crowded
            checks.append(asyncio.create_task(pool.verify(STORED, "246813")))
            await asyncio.sleep(0)
        assert pool.under_way == 4 and pool.waiting == 3 and pool.crowded
        gate.set()
        assert await asyncio.gather(*checks) == [True] * 4
        assert pool.under_way == 0 and not pool.crowded
    finally:
        gate.set()
        await pool.close()


async def test_a_closed_pool_refuses_work() -> None:
    pool = PasswordVerifier(threads=1, hold_after=2)
    await pool.close()
    with pytest.raises(RuntimeError):
        await pool.verify(STORED, "246813")


async def test_the_pool_threads_run_below_the_event_loop() -> None:
    """Lower priority, so that on busy cores the scheduler runs the event loop first."""
    pool = PasswordVerifier(threads=1, hold_after=2)

    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    try:
        loop_niceness = niceness()
        pool_niceness = await pool._run(niceness)
        assert pool_niceness == min(19, loop_niceness + NICENESS)
        assert niceness() == loop_niceness  # the loop's own thread is left as it was
    finally:
        await pool.close()
