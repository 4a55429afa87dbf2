"""The lock-out scheme of ``ivr.domain.lockout`` in SQL: each step one statement on the key's row.

A step is given as the row's new values and, for a claim, the condition that grants it; the
records put them into one UPDATE (or upsert) with RETURNING. The database serialises the
statements on one row (a row lock on PostgreSQL, the write lock on SQLite, whatever process or
node sends them), and the right-hand sides read the row as it was: a claim is granted or refused
against the latest count, never against a copy read earlier.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, literal, not_, null, or_
from sqlalchemy.orm import InstrumentedAttribute

from ivr.domain.lockout import LockoutPolicy, Settled
from ivr.store.types import UTCDateTime

__all__ = ["LockoutColumns"]

Values = dict[Any, Any]


def _at(moment: datetime) -> ColumnElement[datetime]:
    return literal(moment, UTCDateTime())


class LockoutColumns:
    """The columns one table keeps a lock-out in."""

    # A plain class: mypy would read an optional ORM attribute in a dataclass as its value.
    def __init__(
        self,
        *,
        failures: InstrumentedAttribute[int],
        locked_until: InstrumentedAttribute[datetime | None],
        checks: InstrumentedAttribute[int],  # claimed, not settled
        checks_since: InstrumentedAttribute[datetime | None],  # the latest claim
        last_failure_at: InstrumentedAttribute[datetime | None] | None = None,  # forget_after
    ) -> None:
        self.failures = failures
        self.locked_until = locked_until
        self.checks = checks
        self.checks_since = checks_since
        self.last_failure_at = last_failure_at

    def locked(self, now: datetime) -> ColumnElement[bool]:
        return and_(self.locked_until.is_not(None), self.locked_until > now)

    def _checks_left(self) -> ColumnElement[int]:
        return case((self.checks > 0, self.checks - 1), else_=0)

    def claim(self, policy: LockoutPolicy, now: datetime) -> tuple[ColumnElement[bool], Values]:
        """(the condition that grants a claim, the row's values once granted)."""
        limit = policy.max_failures
        # Claims older than the time-to-live belong to checks that never settled: not counted.
        in_flight = case(
            (
                and_(self.checks_since.is_not(None), self.checks_since > now - policy.claim_ttl),
                self.checks,
            ),
            else_=0,
        )
        failures: ColumnElement[int] = self.failures.expression
        if policy.forget_after is not None and self.last_failure_at is not None:
            cutoff = now - policy.forget_after
            forgotten = or_(self.last_failure_at.is_(None), self.last_failure_at <= cutoff)
            failures = case((forgotten, 0), else_=failures)
        if not policy.backs_off:  # a hard lock that ran out: the full tries again
            failures = case((self.failures >= limit, 0), else_=failures)
        # With back-off, after a lock only one check at a time: it alone may lock again.
        counted = case((failures >= limit, limit - 1), else_=failures)
        granted = and_(not_(self.locked(now)), counted + in_flight < limit)
        values: Values = {
            self.failures: failures,
            self.locked_until: null(),
            self.checks: in_flight + 1,
            self.checks_since: _at(now),
        }
        return granted, values

    def failure(self, policy: LockoutPolicy, now: datetime) -> Values:
        """A wrong password: one more in the run; at the limit a lock (longer with back-off)."""
        failures = self.failures + 1
        steps = policy.lock_steps()
        *exact, (last, longest) = steps
        ends = [(failures == count, _at(now + lock)) for count, lock in exact]
        lock_end = case(
            (self.locked(now), self.locked_until),  # a check that outlived its claim
            *ends,
            (failures >= last, _at(now + longest)),
            else_=null(),
        )
        values: Values = {
            self.checks: self._checks_left(),
            self.failures: failures,
            self.locked_until: lock_end,
        }
        if self.last_failure_at is not None:
            values[self.last_failure_at] = _at(now)
        return values

    def success(self) -> Values:
        """The right password: the run of wrong ones ends, and any lock with it."""
        return {self.checks: self._checks_left(), self.failures: 0, self.locked_until: null()}

    def release(self) -> Values:
        """A check that could not finish (an error, a hang-up): it counts neither way."""
        return {self.checks: self._checks_left()}

    @staticmethod
    def settled(
        policy: LockoutPolicy, now: datetime, failures: int, locked_until: datetime | None
    ) -> Settled:
        lock = policy.lock_after(failures)
        newly = lock is not None and locked_until == now + lock
        return Settled(failures=failures, locked_until=locked_until, newly_locked=newly)
