"""Citizens: look-up by ID hash, the query password and its lock-out, account balances."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, case, literal, null, select, update

from ivr.store.base import RecordsBase, clip
from ivr.store.errors import NotFound
from ivr.store.models import (
    BalanceQuery,
    Citizen,
    ContributionRecord,
    MedicalAccount,
    PasswordChange,
    PensionAccount,
    SecurityEvent,
)
from ivr.store.types import UTCDateTime, utcnow
from ivr.store.views import CitizenView, ContributionView, MedicalView

__all__ = ["CitizenRecords"]


class CitizenRecords(RecordsBase):
    async def find_citizen(self, id_hash: str) -> CitizenView | None:
        async with self.db.read() as session:
            citizen = await session.scalar(select(Citizen).where(Citizen.id_hash == id_hash))
        if citizen is None:
            return None
        return CitizenView(
            id=citizen.id,
            id_masked=citizen.id_masked,
            name=citizen.name,
            password_hash=citizen.password_hash,
            password_failures=citizen.password_failures,
            locked_until=citizen.locked_until,
        )

    async def record_password_failure(
        self,
        citizen_id: int,
        *,
        now: datetime,
        max_failures: int,
        lock_for: timedelta,
        call_id: int | None,
    ) -> tuple[int, datetime | None]:
        """Count one wrong password; lock at ``max_failures``. Returns (failures, locked_until).

        One UPDATE does the counting, so concurrent failures are never lost. The rules are those
        of ``ivr.domain.password.after_failure``: a count at the limit whose lock has run out
        starts again at 1; during a lock (failures that raced the lock) the count goes on and the
        lock end stays.
        """
        if max_failures < 1:
            raise ValueError("max_failures must be at least 1")
        until = now + lock_for
        failures = Citizen.password_failures
        locked = and_(Citizen.locked_until.is_not(None), Citizen.locked_until > now)
        restarted = failures >= max_failures
        new_failures = case((locked, failures + 1), (restarted, 1), else_=failures + 1)
        lock_at = literal(until, UTCDateTime())
        new_lock = case(
            (locked, Citizen.locked_until),
            (restarted, lock_at if max_failures == 1 else null()),
            (failures + 1 >= max_failures, lock_at),
            else_=null(),
        )
        statement = (
            update(Citizen)
            .where(Citizen.id == citizen_id)
            .values(password_failures=new_failures, locked_until=new_lock)
            .returning(
                Citizen.password_failures, Citizen.locked_until, Citizen.id_hash, Citizen.id_masked
            )
            .execution_options(synchronize_session=False)
        )
        async with self.db.write() as session:
            row = (await session.execute(statement)).one_or_none()
            if row is None:
                raise NotFound("citizen", citizen_id)
            count, locked_until, id_hash, id_masked = row
            just_locked = locked_until == until and count == max_failures
            events = [("password_failure", f"{count}/{max_failures}")]
            if just_locked:
                events.append(("locked", f"until {until.isoformat()}"))
            for kind, detail in events:
                session.add(
                    SecurityEvent(
                        at=now,
                        kind=kind,
                        id_hash=id_hash,
                        id_masked=id_masked,
                        call_id=call_id,
                        detail=detail,
                    )
                )
        return count, locked_until

    async def record_password_success(self, citizen_id: int) -> None:
        """Reset the failure count (and a run-out lock); no write when there is nothing to reset."""
        async with self.db.read() as session:
            row = (
                await session.execute(
                    select(Citizen.password_failures, Citizen.locked_until).where(
                        Citizen.id == citizen_id
                    )
                )
            ).one_or_none()
        if row is None:
            raise NotFound("citizen", citizen_id)
        if row.password_failures == 0 and row.locked_until is None:
            return
        async with self.db.write() as session:
            await session.execute(
                update(Citizen)
                .where(Citizen.id == citizen_id)
                .values(password_failures=0, locked_until=None)
                .execution_options(synchronize_session=False)
            )

    async def record_security_event(
        self,
        kind: str,
        *,
        call_id: int | None,
        id_hash: str | None = None,
        id_masked: str | None = None,
        detail: str = "",
        now: datetime | None = None,
    ) -> None:
        async with self.db.write() as session:
            session.add(
                SecurityEvent(
                    at=now or utcnow(),
                    kind=kind,
                    id_hash=id_hash,
                    id_masked=clip(id_masked, 24),
                    call_id=call_id,
                    detail=clip(detail, 200),
                )
            )

    async def change_password(
        self, citizen_id: int, new_hash: str, *, call_id: int | None, now: datetime
    ) -> None:
        """Store the new password's hash (never the password), reset failures, log the change."""
        async with self.db.write() as session:
            result = await session.execute(
                update(Citizen)
                .where(Citizen.id == citizen_id)
                .values(
                    password_hash=new_hash,
                    password_failures=0,
                    locked_until=None,
                    password_changed_at=now,
                )
                .returning(Citizen.id)
                .execution_options(synchronize_session=False)
            )
            if result.one_or_none() is None:
                raise NotFound("citizen", citizen_id)
            session.add(PasswordChange(citizen_id=citizen_id, call_id=call_id, at=now))

    async def pension_balance(
        self, citizen_id: int, *, call_id: int | None, now: datetime | None = None
    ) -> Decimal:
        async with self.db.read() as session:
            balance = await session.scalar(
                select(PensionAccount.balance).where(PensionAccount.citizen_id == citizen_id)
            )
        if balance is None:
            raise NotFound("pension account of citizen", citizen_id)
        self.later(self._log_query(citizen_id, call_id, "pension", now))
        return balance

    async def medical_account(
        self, citizen_id: int, *, call_id: int | None, now: datetime | None = None
    ) -> MedicalView:
        async with self.db.read() as session:
            account = await session.get(MedicalAccount, citizen_id)
            if account is None:
                raise NotFound("medical account of citizen", citizen_id)
            self.later(self._log_query(citizen_id, call_id, "medical", now))
            return MedicalView(
                balance=account.balance,
                last_credit_amount=account.last_credit_amount,
                last_credit_on=account.last_credit_on,
            )

    async def contributions(
        self, citizen_id: int, *, call_id: int | None, now: datetime | None = None
    ) -> ContributionView:
        async with self.db.read() as session:
            record = await session.get(ContributionRecord, citizen_id)
            if record is None:
                raise NotFound("contribution record of citizen", citizen_id)
            self.later(self._log_query(citizen_id, call_id, "contributions", now))
            return ContributionView(
                insured_status=record.insured_status,
                last_paid_month=record.last_paid_month,
                contribution_base=record.contribution_base,
                months_paid=record.months_paid,
            )

    async def _log_query(
        self, citizen_id: int, call_id: int | None, kind: str, now: datetime | None
    ) -> None:
        async with self.db.write() as session:
            session.add(
                BalanceQuery(call_id=call_id, citizen_id=citizen_id, kind=kind, at=now or utcnow())
            )
