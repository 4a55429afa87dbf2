"""Citizens: look-up by ID hash, the query password and its lock-out, account balances.

A call's work here (the ID check, the password check, the queries) runs as one plain function a
transaction on a connection (``Database.run_write``/``run_read``), in Core statements built once
where they do not depend on the call; the console's (an unlock at the counter) on a session.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, bindparam, insert, select, update

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
    table_of,
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

_CITIZENS = table_of(Citizen).c
_PENSIONS = table_of(PensionAccount).c
_MEDICAL = table_of(MedicalAccount).c
_CONTRIBUTIONS = table_of(ContributionRecord).c
_FIND_CITIZEN = select(
    _CITIZENS.id,
    _CITIZENS.id_masked,
    _CITIZENS.name,
    _CITIZENS.password_hash,
    _CITIZENS.password_failures,
    _CITIZENS.locked_until,
).where(_CITIZENS.id_hash == bindparam("id_hash"))
_LOCKED_UNTIL = select(_CITIZENS.locked_until).where(_CITIZENS.id == bindparam("citizen_id"))
_PENSION_BALANCE = select(_PENSIONS.balance).where(_PENSIONS.citizen_id == bindparam("citizen_id"))
_MEDICAL_ACCOUNT = select(
    _MEDICAL.balance, _MEDICAL.last_credit_amount, _MEDICAL.last_credit_on
).where(_MEDICAL.citizen_id == bindparam("citizen_id"))
_CONTRIBUTION_RECORD = select(
    _CONTRIBUTIONS.insured_status,
    _CONTRIBUTIONS.last_paid_month,
    _CONTRIBUTIONS.contribution_base,
    _CONTRIBUTIONS.months_paid,
).where(_CONTRIBUTIONS.citizen_id == bindparam("citizen_id"))
_ADD_SECURITY_EVENT = insert(table_of(SecurityEvent))
_LOG_QUERY = insert(table_of(BalanceQuery))
_LOG_PASSWORD_CHANGE = insert(table_of(PasswordChange))


class CitizenRecords(RecordsBase):
    async def find_citizen(self, id_hash: str) -> CitizenView | None:
        def find(connection: Connection) -> CitizenView | None:
            row = connection.execute(_FIND_CITIZEN, {"id_hash": id_hash}).one_or_none()
            if row is None:
                return None
            return CitizenView(
                id=row.id,
                id_masked=row.id_masked,
                name=row.name,
                password_hash=row.password_hash,
                password_failures=row.password_failures,
                locked_until=row.locked_until,
            )

        return await self.db.run_read(find)

    # -- the query password's lock-out: claim, check (by the caller), settle ------------------

    async def claim_password_check(
        self, citizen_id: int, *, policy: LockoutPolicy, now: datetime
    ) -> Granted | Refused:
        """Claim one password check, in one statement: refused while locked, or when the wrong
        passwords so far plus the checks under way reach the limit. Granted, it returns the
        password hash to check against, as it is now (the call reads the citizen once, by ID)."""

        def claim(connection: Connection) -> Granted | Refused:
            granted, values = _LOCKOUT.claim(policy, now)
            password_hash = connection.execute(
                update(Citizen)
                .where(Citizen.id == citizen_id, granted)
                .values(values)
                .returning(Citizen.password_hash)
            ).scalar()
            if password_hash is not None:
                return Granted(password_hash)
            row = connection.execute(_LOCKED_UNTIL, {"citizen_id": citizen_id}).one_or_none()
            if row is None:
                raise NotFound("citizen", citizen_id)
            return Refused(row.locked_until if is_locked(row.locked_until, now) else None)

        return await self.db.run_write(claim)

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

        def settle(connection: Connection) -> Settled:
            values = _LOCKOUT.success() if right else _LOCKOUT.failure(policy, now)
            row = connection.execute(
                update(Citizen)
                .where(Citizen.id == citizen_id)
                .values(values)
                .returning(
                    Citizen.password_failures,
                    Citizen.locked_until,
                    Citizen.id_hash,
                    Citizen.id_masked,
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
            connection.execute(
                _ADD_SECURITY_EVENT,
                [
                    {
                        "at": now,
                        "kind": kind,
                        "id_hash": id_hash,
                        "id_masked": id_masked,
                        "call_id": call_id,
                        "detail": detail,
                    }
                    for kind, detail in events
                ],
            )
            return settled

        return await self.db.run_write(settle)

    async def release_password_check(self, citizen_id: int) -> None:
        """Give back a claim whose check could not finish (it counts neither way)."""

        def release(connection: Connection) -> None:
            connection.execute(
                update(Citizen).where(Citizen.id == citizen_id).values(_LOCKOUT.release())
            )

        await self.db.run_write(release)

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
        row = {
            "at": now or utcnow(),
            "kind": kind,
            "id_hash": id_hash,
            "id_masked": clip(id_masked, 24),
            "call_id": call_id,
            "detail": clip(detail, 200),
        }

        def record(connection: Connection) -> None:
            connection.execute(_ADD_SECURITY_EVENT, row)

        await self.db.run_write(record)

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

        def change(connection: Connection) -> None:
            changed = connection.execute(
                update(Citizen)
                .where(Citizen.id == citizen_id)
                .values(
                    password_hash=new_hash,
                    password_failures=0,
                    locked_until=None,
                    password_changed_at=now,
                )
                .returning(Citizen.id)
            ).one_or_none()
            if changed is None:
                raise NotFound("citizen", citizen_id)
            connection.execute(
                _LOG_PASSWORD_CHANGE, {"citizen_id": citizen_id, "call_id": call_id, "at": now}
            )

        await self.db.run_write(change)

    # A query and its row in the query log are one write transaction: the caller hears a figure
    # only once its query is on record, and a failure leaves neither (one round of BEGIN and
    # COMMIT instead of a read and a later write of its own).

    async def pension_balance(
        self, citizen_id: int, *, call_id: int | None, now: datetime | None = None
    ) -> Decimal:
        at = now or utcnow()

        def query(connection: Connection) -> Decimal:
            balance = connection.execute(_PENSION_BALANCE, {"citizen_id": citizen_id}).scalar()
            if balance is None:
                raise NotFound("pension account of citizen", citizen_id)
            _log_query(connection, citizen_id, call_id, "pension", at)
            assert isinstance(balance, Decimal)
            return balance

        return await self.db.run_write(query)

    async def medical_account(
        self, citizen_id: int, *, call_id: int | None, now: datetime | None = None
    ) -> MedicalView:
        at = now or utcnow()

        def query(connection: Connection) -> MedicalView:
            account = connection.execute(_MEDICAL_ACCOUNT, {"citizen_id": citizen_id}).one_or_none()
            if account is None:
                raise NotFound("medical account of citizen", citizen_id)
            _log_query(connection, citizen_id, call_id, "medical", at)
            return MedicalView(
                balance=account.balance,
                last_credit_amount=account.last_credit_amount,
                last_credit_on=account.last_credit_on,
            )

        return await self.db.run_write(query)

    async def contributions(
        self, citizen_id: int, *, call_id: int | None, now: datetime | None = None
    ) -> ContributionView:
        at = now or utcnow()

        def query(connection: Connection) -> ContributionView:
            record = connection.execute(
                _CONTRIBUTION_RECORD, {"citizen_id": citizen_id}
            ).one_or_none()
            if record is None:
                raise NotFound("contribution record of citizen", citizen_id)
            _log_query(connection, citizen_id, call_id, "contributions", at)
            return ContributionView(
                insured_status=record.insured_status,
                last_paid_month=record.last_paid_month,
                contribution_base=record.contribution_base,
                months_paid=record.months_paid,
            )

        return await self.db.run_write(query)


def _log_query(
    connection: Connection, citizen_id: int, call_id: int | None, kind: str, at: datetime
) -> None:
    """The query in the query log, in the transaction that read the answer."""
    row = {"call_id": call_id, "citizen_id": citizen_id, "kind": kind, "at": at}
    connection.execute(_LOG_QUERY, row)
