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


def test_a_pool_needs_a_thread() -> None:
    with pytest.raises(ValueError, match="at least one thread, not 0"):
        PasswordVerifier(threads=0, hold_after=2)


async def test_no_more_checks_run_at_once_than_the_pool_has_threads() -> None:
    pool = PasswordVerifier(threads=2, hold_after=8)
    gate = threading.Event()
    lock = threading.Lock()
    running = [0, 0]  # now, most at once

    def check() -> None:
        with lock:
            running[0] += 1
            running[1] = max(running)
        gate.wait(10)
        with lock:
            running[0] -= 1

    try:
        checks = [asyncio.create_task(pool._run(check)) for _ in range(5)]
        for _ in range(200):
            if running[0] == 2:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)  # time for a third thread, were there one
        assert running[1] == 2 and pool.waiting == 3
        gate.set()
        await asyncio.gather(*checks)
    finally:
        gate.set()
        await pool.close()


@pytest.mark.parametrize(("current", "lowered"), [(0, NICENESS), (15, 19)])
async def test_each_pool_thread_lowers_its_own_priority(
    monkeypatch: pytest.MonkeyPatch, current: int, lowered: int
) -> None:
    """Checked on the calls, not the result: under ``nice 19`` the result cannot change."""
    asked: list[tuple[int, int]] = []
    set_to: list[tuple[int, int, int]] = []

    def getpriority(which: int, who: int) -> int:
        asked.append((which, who))
        return current

    def setpriority(which: int, who: int, value: int) -> None:
        set_to.append((which, who, value))

    monkeypatch.setattr(os, "getpriority", getpriority)
    monkeypatch.setattr(os, "setpriority", setpriority)
    pool = PasswordVerifier(threads=1, hold_after=2)
    try:
        thread = await pool._run(threading.get_native_id)
    finally:
        await pool.close()
    assert thread != threading.get_native_id()
    assert asked == [(os.PRIO_PROCESS, thread)]
    assert set_to == [(os.PRIO_PROCESS, thread, lowered)]


async def test_a_pool_thread_runs_where_the_system_refuses_a_lower_priority(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(which: int, who: int, value: int) -> None:
        raise PermissionError("not allowed")

    monkeypatch.setattr(os, "setpriority", refuse)
    pool = PasswordVerifier(threads=1, hold_after=2)
    try:
        assert await pool.verify(STORED, "246813")
    finally:
        await pool.close()


async def test_close_finishes_the_check_under_way_and_drops_those_waiting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gate = threading.Event()
    started = threading.Event()

    def held(stored_hash: str, password: str) -> bool:
        started.set()
        gate.wait(10)
        return password == "246813"

    monkeypatch.setattr(verifier_module, "verify_password", held)
    pool = PasswordVerifier(threads=1, hold_after=2)
    running = asyncio.create_task(pool.verify(STORED, "246813"))
    waiting = asyncio.create_task(pool.verify(STORED, "246813"))
    try:
        await asyncio.to_thread(started.wait, 10)
        closing = asyncio.create_task(pool.close())
        await asyncio.sleep(0.2)
        assert not closing.done()  # it waits for the check a thread has taken
        gate.set()
        await closing
        assert await running
        with pytest.raises(asyncio.CancelledError):
            await waiting
    finally:
        gate.set()
        await pool.close()
