"""The 6-digit query password: the initial password, rules for a new one, hashing, lock-out
policy (the lock-out scheme itself: ``ivr.domain.lockout``).

A password is the most sensitive value the hotline handles (financial rules class PINs at the
highest level): it is only ever hashed (argon2id), and no function here logs it or puts it in an
exception message.
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ivr.domain.idnumber import ResidentId
from ivr.domain.lockout import LockoutPolicy

__all__ = [
    "PasswordProblem",
    "caller_lockout",
    "hash_password",
    "hash_password_async",
    "initial_password",
    "needs_rehash",
    "password_problem",
    "verify_password",
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


# argon2 deliberately takes tens of milliseconds of CPU: keep it off the event loop. (Calls
# verify and hash on the bounded pool of ``ivr.domain.verifier``; this is for seeding.)
async def hash_password_async(pw: str) -> str:
    return await asyncio.to_thread(hash_password, pw)


def caller_lockout(max_failures: int, lock_hours: int) -> LockoutPolicy:
    """The callers' lock-out, as the bureau configures it: a hard lock (3 tries, then 24 hours by
    default); unlocking earlier is done in person."""
    return LockoutPolicy(max_failures=max_failures, lock_for=timedelta(hours=lock_hours))
