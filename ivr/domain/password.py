"""The 6-digit query password: the initial password, rules for a new one, hashing, lock-out.

A password is the most sensitive value the hotline handles (financial rules class PINs at the
highest level): it is only ever hashed (argon2id), and no function here logs it or puts it in an
exception message.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ivr.domain.idnumber import ResidentId

__all__ = [
    "DEFAULT_LOCKOUT",
    "LockoutPolicy",
    "PasswordProblem",
    "after_failure",
    "hash_password",
    "hash_password_async",
    "initial_password",
    "is_locked",
    "needs_rehash",
    "password_problem",
    "verify_password",
    "verify_password_async",
]

PasswordProblem = Literal["length", "all_same", "sequence", "initial"]

# OWASP's minimum for argon2id: 19 MiB, 2 passes, 1 lane (about 20-40 ms per hash here).
_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


def initial_password(resident_id: ResidentId) -> str:
    """The common default: the six digits before the last ID character."""
    return resident_id.number[-7:-1]


def _is_sequence(pw: str) -> bool:
    steps = {int(b) - int(a) for a, b in itertools.pairwise(pw)}
    return steps in ({1}, {-1})


def password_problem(
    candidate: str, resident_id: ResidentId | None = None
) -> PasswordProblem | None:
    """Why ``candidate`` cannot become the new password, or None when it can."""
    if len(candidate) != 6 or not all(c in "0123456789" for c in candidate):
        return "length"
    if len(set(candidate)) == 1:
        return "all_same"
    if _is_sequence(candidate):
        return "sequence"
    if resident_id is not None and candidate == initial_password(resident_id):
        return "initial"
    return None


def hash_password(pw: str) -> str:
    return _HASHER.hash(pw)


def verify_password(stored_hash: str, pw: str) -> bool:
    """True when ``pw`` matches; False for a wrong password or an unreadable hash (never raises)."""
    try:
        return _HASHER.verify(stored_hash, pw)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with other parameters (re-hash after a successful check)."""
    return _HASHER.check_needs_rehash(stored_hash)


# argon2 deliberately takes tens of milliseconds of CPU: keep it off the event loop.
async def hash_password_async(pw: str) -> str:
    return await asyncio.to_thread(hash_password, pw)


async def verify_password_async(stored_hash: str, pw: str) -> bool:
    return await asyncio.to_thread(verify_password, stored_hash, pw)


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 3
    lock_for: timedelta = timedelta(hours=24)

    def __post_init__(self) -> None:
        if self.max_failures < 1 or self.lock_for <= timedelta(0):
            raise ValueError(
                "a lock-out policy needs at least one failure and a positive lock time"
            )


DEFAULT_LOCKOUT = LockoutPolicy()


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and now < locked_until


def after_failure(
    consecutive_failures_before: int, now: datetime, policy: LockoutPolicy = DEFAULT_LOCKOUT
) -> tuple[int, datetime | None]:
    """The failure count after one more wrong password, and the lock end if it now locks.

    A count already at the limit belongs to a lock that has run out (a locked account is refused
    before its password is checked), so counting starts again: the caller gets fresh attempts.
    A successful check resets the count to 0 (the caller stores that).
    """
    before = (
        0 if consecutive_failures_before >= policy.max_failures else consecutive_failures_before
    )
    failures = before + 1
    if failures >= policy.max_failures:
        return failures, now + policy.lock_for
    return failures, None
