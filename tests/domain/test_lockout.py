"""The lock-out policies: when a run of wrong passwords locks, for how long, and the back-off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ivr.domain.account_password import CONSOLE_LOCKOUT
from ivr.domain.lockout import LockoutPolicy, is_locked
from ivr.domain.password import caller_lockout

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def test_is_locked() -> None:
    assert not is_locked(None, NOW)
    assert is_locked(NOW + timedelta(seconds=1), NOW)
    assert not is_locked(NOW, NOW)
    assert not is_locked(NOW - timedelta(hours=1), NOW)


def test_callers_get_three_tries_then_a_hard_24_hour_lock() -> None:
    policy = caller_lockout(3, 24)
    assert not policy.backs_off
    assert [policy.lock_after(n) for n in (1, 2, 3, 4, 10)] == [
        None,
        None,
        timedelta(hours=24),
        timedelta(hours=24),
        timedelta(hours=24),
    ]
    assert policy.lock_steps() == [(3, timedelta(hours=24))]


def test_console_log_ins_back_off_from_one_minute_to_an_hour() -> None:
    policy = CONSOLE_LOCKOUT
    assert policy.backs_off and policy.max_failures == 5
    assert policy.lock_after(4) is None
    assert [policy.lock_after(n) for n in range(5, 13)] == [
        MINUTE,
        2 * MINUTE,
        4 * MINUTE,
        8 * MINUTE,
        16 * MINUTE,
        32 * MINUTE,
        60 * MINUTE,
        60 * MINUTE,
    ]
    assert policy.lock_after(10_000) == 60 * MINUTE
    assert policy.lock_steps() == [(5 + k, policy.lock_after(5 + k)) for k in range(7)]


def test_a_policy_must_make_sense() -> None:
    # The callers' policy comes from the settings: a wrong one is refused in these words.
    needs = "a lock-out policy needs at least one failure and a positive lock time"
    with pytest.raises(ValueError) as refused:
        LockoutPolicy(max_failures=0, lock_for=MINUTE)
    assert str(refused.value) == needs
    with pytest.raises(ValueError) as refused:
        LockoutPolicy(max_failures=3, lock_for=timedelta(0))
    assert str(refused.value) == needs
    with pytest.raises(ValueError) as refused:
        LockoutPolicy(max_failures=3, lock_for=MINUTE, longest_lock=timedelta(seconds=30))
    assert str(refused.value) == "the longest lock cannot be shorter than the first"


def test_the_smallest_policy_locks_on_the_first_wrong_password() -> None:
    policy = LockoutPolicy(max_failures=1, lock_for=timedelta(seconds=1))
    assert policy.lock_after(0) is None
    assert policy.lock_after(1) == timedelta(seconds=1)
    assert policy.lock_steps() == [(1, timedelta(seconds=1))]


def test_a_back_off_may_be_capped_at_its_first_lock() -> None:
    policy = LockoutPolicy(max_failures=2, lock_for=MINUTE, longest_lock=MINUTE)
    assert policy.backs_off
    assert [policy.lock_after(n) for n in (1, 2, 3, 40)] == [None, MINUTE, MINUTE, MINUTE]
    assert policy.lock_steps() == [(2, MINUTE)]


@pytest.mark.parametrize("lock_for", [timedelta(0), -MINUTE])
def test_a_lock_must_last(lock_for: timedelta) -> None:
    with pytest.raises(ValueError):
        LockoutPolicy(max_failures=1, lock_for=lock_for)


def test_the_caller_is_warned_before_the_try_that_locks() -> None:
    policy = caller_lockout(3, 24)
    assert [policy.locks_next(n) for n in (0, 1, 2, 3, 4)] == [False, False, True, False, False]
