"""Console accounts: users with a role and an argon2 password hash, their log-in lock-out and
sessions.

Hashing is not done here (the store never sees a password): callers pass the argon2 hash in.
A session row is keyed by the SHA-256 of the random token in the cookie, so a copy of the
database does not give anyone a usable session. The lock-out is kept per name typed and source
address (``login_throttles``), for names with and without an account alike.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from ivr.domain.lockout import LockoutPolicy, Refused, Settled, is_locked
from ivr.store.base import RecordsBase, clip
from ivr.store.errors import NotFound, StoreError
from ivr.store.lockouts import LockoutColumns
from ivr.store.models import DEFAULT_LOCALE, LoginThrottle, User, WebSession

__all__ = ["DEFAULT_LOCALE", "Accounts", "Role", "SessionView", "UserExists", "UserView"]

_LOCKOUT = LockoutColumns(
    failures=LoginThrottle.failures,
    locked_until=LoginThrottle.locked_until,
    checks=LoginThrottle.checks,
    checks_since=LoginThrottle.checks_since,
    last_failure_at=LoginThrottle.last_failure_at,
)


class Role(enum.StrEnum):
    SUPERVISOR = "supervisor"  # calls, live calls, statistics, prompts and the cases
    STAFF = "staff"  # counter staff: the card cases
    AUDITOR = "auditor"  # the audit log only


class UserExists(StoreError):
    def __init__(self, username: str) -> None:
        super().__init__(f"a user named {username!r} exists already")
        self.username = username


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    role: Role
    password_hash: str
    last_login_at: datetime | None
    locale: str = DEFAULT_LOCALE
    disabled_at: datetime | None = None


@dataclass(frozen=True)
class SessionView:
    user: UserView
    csrf_token: str
    expires_at: datetime


def _view(user: User) -> UserView:
    return UserView(
        id=user.id,
        username=user.username,
        role=Role(user.role),
        password_hash=user.password_hash,
        last_login_at=user.last_login_at,
        locale=user.locale,
        disabled_at=user.disabled_at,
    )


def _name_hash(username: str) -> str:
    """How the lock-out keeps a name typed (it may be a password typed in the wrong field)."""
    return hashlib.sha256(username.encode()).hexdigest()


def _key(username: str, remote: str) -> dict[str, str]:
    return {"name_hash": _name_hash(username), "remote": clip(remote, 64)}


def _matches(key: dict[str, str]) -> tuple[ColumnElement[bool], ...]:
    return LoginThrottle.name_hash == key["name_hash"], LoginThrottle.remote == key["remote"]


def _idle(policy: LockoutPolicy, now: datetime) -> ColumnElement[bool]:
    """Rows that hold nothing any more: no check under way, no lock, no failure still counted."""
    assert policy.forget_after is not None
    return and_(
        or_(LoginThrottle.checks == 0, LoginThrottle.checks_since <= now - policy.claim_ttl),
        or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now),
        or_(
            LoginThrottle.failures == 0,
            LoginThrottle.last_failure_at <= now - policy.forget_after,
        ),
    )


class Accounts(RecordsBase):
    # -- users ---------------------------------------------------------------------------------

    async def add_user(
        self,
        username: str,
        role: Role,
        password_hash: str,
        *,
        now: datetime,
        locale: str = DEFAULT_LOCALE,
    ) -> UserView:
        user = User(
            username=username,
            role=role.value,
            password_hash=password_hash,
            created_at=now,
            locale=locale,
        )
        try:
            async with self.db.write() as session:
                session.add(user)
                await session.flush()
                return _view(user)
        except IntegrityError:
            raise UserExists(username) from None

    async def find_user(self, username: str) -> UserView | None:
        async with self.db.read() as session:
            user = await session.scalar(select(User).where(User.username == username))
        return None if user is None else _view(user)

    async def list_users(self) -> list[UserView]:
        async with self.db.read() as session:
            return [_view(u) for u in await session.scalars(select(User).order_by(User.username))]

    async def set_password(self, username: str, password_hash: str) -> int:
        """A new password (``hotline users passwd``): in one transaction it lifts the name's
        log-in locks and ends every session of the account. Returns how many sessions ended."""
        async with self.db.write() as session:
            user_id = await session.scalar(
                update(User)
                .where(User.username == username)
                .values(password_hash=password_hash)
                .returning(User.id)
                .execution_options(synchronize_session=False)
            )
            if user_id is None:
                raise NotFound("user", username)
            await session.execute(
                delete(LoginThrottle).where(LoginThrottle.name_hash == _name_hash(username))
            )
            ended = await session.execute(
                delete(WebSession).where(WebSession.user_id == user_id).returning(WebSession.id)
            )
            return len(ended.all())

    async def set_disabled(self, username: str, *, disabled_at: datetime | None) -> int:
        """Disable the account (it cannot log in; every session ends) or, with ``None``, enable
        it again. Returns how many sessions ended."""
        async with self.db.write() as session:
            user_id = await session.scalar(
                update(User)
                .where(User.username == username)
                .values(disabled_at=disabled_at)
                .returning(User.id)
                .execution_options(synchronize_session=False)
            )
            if user_id is None:
                raise NotFound("user", username)
            if disabled_at is None:
                return 0
            ended = await session.execute(
                delete(WebSession).where(WebSession.user_id == user_id).returning(WebSession.id)
            )
            return len(ended.all())

    async def unlock_login(self, username: str) -> int:
        """Lift the name's log-in locks from every address; how many addresses were locked."""
        async with self.db.write() as session:
            lifted = await session.execute(
                delete(LoginThrottle)
                .where(LoginThrottle.name_hash == _name_hash(username))
                .returning(LoginThrottle.locked_until)
            )
            return sum(1 for (until,) in lifted if until is not None)

    async def set_locale(self, user_id: int, locale: str) -> None:
        """The console's language for the account (the web checks it is one it speaks)."""
        async with self.db.write() as session:
            await session.execute(
                update(User)
                .where(User.id == user_id)
                .values(locale=locale)
                .execution_options(synchronize_session=False)
            )

    async def rehash(self, user_id: int, old_hash: str, new_hash: str) -> None:
        """The same password under the current hash parameters (after a log-in): sessions stay.
        Only while the hash is still the one checked: a password changed meanwhile stays."""
        async with self.db.write() as session:
            await session.execute(
                update(User)
                .where(User.id == user_id, User.password_hash == old_hash)
                .values(password_hash=new_hash)
                .execution_options(synchronize_session=False)
            )

    async def record_login(self, user_id: int, *, now: datetime) -> None:
        async with self.db.write() as session:
            await session.execute(
                update(User)
                .where(User.id == user_id)
                .values(last_login_at=now)
                .execution_options(synchronize_session=False)
            )

    # -- lock-out: per name typed and source address (``ivr.domain.lockout``) -------------------

    async def claim_login(
        self, username: str, remote: str, *, policy: LockoutPolicy, now: datetime
    ) -> Refused | None:
        """Claim one password check for ``username`` from ``remote`` (None: granted) in one
        statement, an upsert (the first attempt makes the row), whether the account exists or
        not."""
        granted, values = _LOCKOUT.claim(policy, now)
        key = _key(username, remote)
        insert: Any = pg_insert if self.db.dialect == "postgresql" else sqlite_insert
        statement = (
            insert(LoginThrottle)
            .values(**key, failures=0, checks=1, checks_since=now)
            .on_conflict_do_update(
                index_elements=[LoginThrottle.name_hash, LoginThrottle.remote],
                set_=values,
                where=granted,
            )
            .returning(LoginThrottle.checks)
        )
        async with self.db.write() as session:
            if (await session.execute(statement)).one_or_none() is not None:
                return None
            locked_until = await session.scalar(
                select(LoginThrottle.locked_until).where(*_matches(key))
            )
        return Refused(locked_until if is_locked(locked_until, now) else None)

    async def settle_login(
        self, username: str, remote: str, *, right: bool, policy: LockoutPolicy, now: datetime
    ) -> Settled:
        """Settle a claimed check: right resets the name's count from that address (and clears
        rows that hold nothing any more); wrong counts and, at the limit, locks."""
        key = _key(username, remote)
        values = _LOCKOUT.success() if right else _LOCKOUT.failure(policy, now)
        async with self.db.write() as session:
            failures, locked_until = (
                await session.execute(
                    update(LoginThrottle)
                    .where(*_matches(key))
                    .values(values)
                    .returning(LoginThrottle.failures, LoginThrottle.locked_until)
                    .execution_options(synchronize_session=False)
                )
            ).one()
            if right:
                await session.execute(delete(LoginThrottle).where(_idle(policy, now)))
        return _LOCKOUT.settled(policy, now, int(failures), locked_until)

    async def release_login(self, username: str, remote: str) -> None:
        """Give back a claim whose check could not finish (it counts neither way)."""
        async with self.db.write() as session:
            await session.execute(
                update(LoginThrottle)
                .where(*_matches(_key(username, remote)))
                .values(_LOCKOUT.release())
                .execution_options(synchronize_session=False)
            )

    async def locked_logins(self, now: datetime) -> dict[str, datetime]:
        """Accounts locked from some address now: name -> the latest end of those locks."""
        async with self.db.read() as session:
            rows = await session.execute(
                select(LoginThrottle.name_hash, func.max(LoginThrottle.locked_until))
                .where(LoginThrottle.locked_until > now)
                .group_by(LoginThrottle.name_hash)
            )
            ends = {hashed: until for hashed, until in rows if until is not None}
            names = list(await session.scalars(select(User.username)))
        return {name: ends[_name_hash(name)] for name in names if _name_hash(name) in ends}

    # -- sessions ------------------------------------------------------------------------------

    async def create_session(
        self, session_id: str, user_id: int, csrf_token: str, *, now: datetime, expires: datetime
    ) -> None:
        async with self.db.write() as session:
            # Expired rows go when someone logs in: no background job needed.
            await session.execute(delete(WebSession).where(WebSession.expires_at <= now))
            session.add(
                WebSession(
                    id=session_id,
                    user_id=user_id,
                    csrf_token=csrf_token,
                    created_at=now,
                    expires_at=expires,
                )
            )

    async def find_session(self, session_id: str, *, now: datetime) -> SessionView | None:
        async with self.db.read() as session:
            row = (
                await session.execute(
                    select(WebSession, User)
                    .join(User, User.id == WebSession.user_id)
                    .where(
                        WebSession.id == session_id,
                        WebSession.expires_at > now,
                        User.disabled_at.is_(None),
                    )
                )
            ).one_or_none()
        if row is None:
            return None
        web_session, user = row
        return SessionView(_view(user), web_session.csrf_token, web_session.expires_at)

    async def end_session(self, session_id: str) -> None:
        async with self.db.write() as session:
            await session.execute(delete(WebSession).where(WebSession.id == session_id))
