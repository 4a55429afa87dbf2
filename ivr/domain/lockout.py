"""Lock-out after wrong passwords: one scheme for callers' query passwords and console log-ins.

A lock-out is kept per key (a citizen; a console name typed from one source address) in one
database row: the wrong passwords in a row, the end of a lock, and the checks under way. Checking
a password takes three steps; the first and the last are each one atomic statement in the
database, so the lock-out holds for parallel attempts, across processes and nodes:

1. claim: refused while the key is locked, or when the wrong passwords so far plus the checks
   under way reach the limit (the checks under way could all be wrong). Otherwise one more check
   is under way. An unsettled claim (its process killed mid-check) stops counting after
   ``claim_ttl``.
2. the check itself (argon2).
3. settle: a right password ends the run of wrong ones; a wrong one counts and, at the limit,
   locks. (A check that could not finish is released: it counts neither way.)

When a lock runs out, a hard lock (``longest_lock`` None: callers, 3 tries then 24 hours, as the
bureaus do) gives the full number of tries again. With back-off (console log-ins) each further
wrong password, one at a time, locks twice as long as the last lock, up to ``longest_lock``: a
lock an attacker sets ends by itself, and guessing gets slower and slower.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["Granted", "LockoutPolicy", "Refused", "Settled", "is_locked"]


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int
    lock_for: timedelta  # the first lock
    longest_lock: timedelta | None = None  # None: a hard lock; else back-off up to this
    forget_after: timedelta | None = None  # wrong passwords older than this no longer count
    claim_ttl: timedelta = timedelta(minutes=1)  # far longer than any check takes

    def __post_init__(self) -> None:
        if self.max_failures < 1 or self.lock_for <= timedelta(0):
            raise ValueError(
                "a lock-out policy needs at least one failure and a positive lock time"
            )
        if self.longest_lock is not None and self.longest_lock < self.lock_for:
            raise ValueError("the longest lock cannot be shorter than the first")

    @property
    def backs_off(self) -> bool:
        return self.longest_lock is not None

    def lock_after(self, failures: int) -> timedelta | None:
        """How long ``failures`` wrong passwords in a row lock the key (None: not at all)."""
        if failures < self.max_failures:
            return None
        if self.longest_lock is None:
            return self.lock_for
        doublings = min(failures - self.max_failures, 32)  # 2**32 times: past any cap
        return min(self.lock_for * (1 << doublings), self.longest_lock)

    def locks_next(self, failures: int) -> bool:
        """After ``failures`` wrong passwords in a row (not locked), the next one locks: the
        caller is warned."""
        return self.lock_after(failures) is None and self.lock_after(failures + 1) is not None

    def lock_steps(self) -> list[tuple[int, timedelta]]:
        """(failures, lock) from the first lock to the longest; the last holds for any more."""
        steps: list[tuple[int, timedelta]] = []
        failures = self.max_failures
        while True:
            lock = self.lock_after(failures)
            assert lock is not None
            steps.append((failures, lock))
            if lock == (self.longest_lock or self.lock_for):
                return steps
            failures += 1


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and now < locked_until


@dataclass(frozen=True)
class Granted:
    """A claim granted, with the password hash to check against as the claim found it: read in
    the claim's own statement, a password changed since the key was looked up is the one checked."""

    password_hash: str


@dataclass(frozen=True)
class Refused:
    """A claim refused: locked until ``locked_until``, or (None) not locked, but as many checks
    are under way as may still be wrong before the lock."""

    locked_until: datetime | None


@dataclass(frozen=True)
class Settled:
    """A check settled: the wrong passwords in a row now, the lock, and whether this one locked."""

    failures: int
    locked_until: datetime | None
    newly_locked: bool
