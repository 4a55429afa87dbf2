"""Console account passwords (supervisors, staff, auditors): the policy, the log-in lock-out, and
argon2id hashes made and checked in worker threads. Callers' 6-digit query passwords are
``ivr.domain.password``.

argon2-cffi's default parameters (RFC 9106 low-memory profile: 64 MiB, 3 passes) are used: a staff
login happens a few times a day, so it can afford a slower hash than the callers' 6-digit PINs.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ivr.domain.lockout import LockoutPolicy

__all__ = [
    "CONSOLE_LOCKOUT",
    "MIN_LENGTH",
    "hash_password",
    "hash_password_async",
    "needs_rehash",
    "password_problem",
    "verify_password_async",
]

MIN_LENGTH = 10
_HASHER = PasswordHasher()

# Held per name typed and source address, for known and unknown names alike (the answer never
# tells which names exist), so guesses from one place do not lock the owner out elsewhere. Five
# wrong passwords in a row lock for a minute; each further one doubles the lock, up to an hour; a
# day without a wrong password forgets them.
CONSOLE_LOCKOUT = LockoutPolicy(
    max_failures=5,
    lock_for=timedelta(minutes=1),
    longest_lock=timedelta(hours=1),
    forget_after=timedelta(days=1),
)


def password_problem(password: str) -> str | None:
    """Why ``password`` cannot be a console password, or None."""
    if len(password) < MIN_LENGTH:
        return f"a console password needs at least {MIN_LENGTH} characters"
    if password.strip() != password:
        return "a console password cannot start or end with spaces"
    return None


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def _verify(stored_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    try:
        return _HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


# argon2 takes tens of milliseconds of CPU on purpose: never on the event loop.
async def hash_password_async(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


async def verify_password_async(stored_hash: str, password: str) -> bool:
    return await asyncio.to_thread(_verify, stored_hash, password)
