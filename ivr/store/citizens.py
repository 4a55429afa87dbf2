"""Citizens: look-up by ID hash, the query password and its lock-out, account balances."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.domain.lockout import Granted, LockoutPolicy, Refused, Settled, is_locked
from ivr.store.base import RecordsBase, clip
from ivr.store.errors import NotFound
from ivr.store.lockouts import LockoutColumns
from ivr.store.models import (
    BalanceQuery,
    Citizen,
    ContributionRecord,
    MedicalAccount,
    PasswordChange,
    PensionAccount,
    SecurityEvent,
)
from ivr.store.types import utcnow
from ivr.store.views import CitizenView, ContributionView, MedicalView

__all__ = ["CitizenRecords"]

_LOCKOUT = LockoutColumns(
    failures=Citizen.password_failures,
    locked_until=Citizen.locked_until,
    checks=Citizen.password_checks,
    checks_since=Citizen.password_checks_since,
)


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

    # -- the query password's lock-out: claim, check (by the caller), settle ------------------

    async def claim_password_check(
        self, citizen_id: int, *, policy: LockoutPolicy, now: datetime
    ) -> Granted | Refused:
        """Claim one password check, in one statement: refused while locked, or when the wrong
        passwords so far plus the checks under way reach the limit. Granted, it returns the
        password hash to check against, as it is now (the call reads the citizen once, by ID)."""
        granted, values = _LOCKOUT.claim(policy, now)
        async with self.db.write() as session:
            password_hash = await session.scalar(
                update(Citizen)
                .where(Citizen.id == citizen_id, granted)
                .values(values)
                .returning(Citizen.password_hash)
                .execution_options(synchronize_session=False)
            )
            if password_hash is not None:
                return Granted(password_hash)
            row = (
                await session.execute(select(Citizen.locked_until).where(Citizen.id == citizen_id))
            ).one_or_none()
        if row is None:
            raise NotFound("citizen", citizen_id)
        return Refused(row.locked_until if is_locked(row.locked_until, now) else None)

    async def settle_password_check(
        self,
        citizen_id: int,
        *,
        right: bool,
        policy: LockoutPolicy,
        now: datetime,
        call_id: int | None,
    ) -> Settled:
        """Settle a claimed check: a right password resets the count; a wrong one counts (and
        locks at the limit), with a security event for each failure and each lock."""
        values = _LOCKOUT.success() if right else _LOCKOUT.failure(policy, now)
        async with self.db.write() as session:
            row = (
                await session.execute(
                    update(Citizen)
                    .where(Citizen.id == citizen_id)
                    .values(values)
                    .returning(
                        Citizen.password_failures,
                        Citizen.locked_until,
                        Citizen.id_hash,
                        Citizen.id_masked,
                    )
                    .execution_options(synchronize_session=False)
                )
            ).one_or_none()
            if row is None:
                raise NotFound("citizen", citizen_id)
            count, locked_until, id_hash, id_masked = row
            settled = _LOCKOUT.settled(policy, now, count, locked_until)
            if right:
                return settled
            events = [("password_failure", f"{count}/{policy.max_failures}")]
            if settled.newly_locked and locked_until is not None:
                events.append(("locked", f"until {locked_until.isoformat()}"))
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
        return settled

    async def release_password_check(self, citizen_id: int) -> None:
        """Give back a claim whose check could not finish (it counts neither way)."""
        async with self.db.write() as session:
            await session.execute(
                update(Citizen)
                .where(Citizen.id == citizen_id)
                .values(_LOCKOUT.release())
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

    async def unlock_phone_queries(
        self, id_hash: str, *, by: str, reason: str, now: datetime
    ) -> tuple[str, datetime | None] | None:
        """Lift the query-password lock of the citizen with ``id_hash`` (staff checked their
        identity at the counter) and log it as a security event. The masked ID number and the
        lock lifted (``None``: it was not locked); ``None`` for no such citizen."""
        async with self.db.write() as session:
            found = (
                await session.execute(
                    select(Citizen.id, Citizen.id_masked, Citizen.locked_until).where(
                        Citizen.id_hash == id_hash
                    )
                )
            ).one_or_none()
            if found is None:
                return None
            citizen_id, masked, locked_until = found
            await session.execute(
                update(Citizen)
                .where(Citizen.id == citizen_id)
                .values(password_failures=0, locked_until=None)
                .execution_options(synchronize_session=False)
            )
            session.add(
                SecurityEvent(
                    at=now,
                    kind="unlocked",
                    id_hash=id_hash,
                    id_masked=masked,
                    call_id=None,
                    detail=clip(f"by {by}: {reason}", 200),
                )
            )
        return masked, locked_until if is_locked(locked_until, now) else None

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

    # A query and its row in the query log are one write transaction: the caller hears a figure
    # only once its query is on record, and a failure leaves neither (one round of BEGIN and
    # COMMIT instead of a read and a later write of its own).

    async def pension_balance(
        self, citizen_id: int, *, call_id: int | None, now: datetime | None = None
    ) -> Decimal:
        async with self.db.write() as session:
            balance = await session.scalar(
                select(PensionAccount.balance).where(PensionAccount.citizen_id == citizen_id)
            )
            if balance is None:
                raise NotFound("pension account of citizen", citizen_id)
            await _log_query(session, citizen_id, call_id, "pension", now)
        return balance

    async def medical_account(
        self, citizen_id: int, *, call_id: int | None, now: datetime | None = None
    ) -> MedicalView:
        async with self.db.write() as session:
            account = await session.get(MedicalAccount, citizen_id)
            if account is None:
                raise NotFound("medical account of citizen", citizen_id)
            await _log_query(session, citizen_id, call_id, "medical", now)
            return MedicalView(
                balance=account.balance,
                last_credit_amount=account.last_credit_amount,
                last_credit_on=account.last_credit_on,
            )

    async def contributions(
        self, citizen_id: int, *, call_id: int | None, now: datetime | None = None
    ) -> ContributionView:
        async with self.db.write() as session:
            record = await session.get(ContributionRecord, citizen_id)
            if record is None:
                raise NotFound("contribution record of citizen", citizen_id)
            await _log_query(session, citizen_id, call_id, "contributions", now)
            return ContributionView(
                insured_status=record.insured_status,
                last_paid_month=record.last_paid_month,
                contribution_base=record.contribution_base,
                months_paid=record.months_paid,
            )


async def _log_query(
    session: AsyncSession, citizen_id: int, call_id: int | None, kind: str, now: datetime | None
) -> None:
    """The query in the query log, in the transaction that read the answer (Core: no unit of
    work for one row)."""
    row = {"call_id": call_id, "citizen_id": citizen_id, "kind": kind, "at": now or utcnow()}
    await session.execute(insert(BalanceQuery), row)
