"""Console accounts: users with a role and an argon2 password hash, their lock-out and sessions.

Hashing is not done here (the store never sees a password): callers pass the argon2 hash in.
A session row is keyed by the SHA-256 of the random token in the cookie, so a copy of the
database does not give anyone a usable session.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, delete, literal, null, select, update
from sqlalchemy.exc import IntegrityError

from ivr.store.base import RecordsBase
from ivr.store.errors import NotFound, StoreError
from ivr.store.models import User, WebSession
from ivr.store.types import UTCDateTime

__all__ = ["Accounts", "Role", "SessionView", "UserExists", "UserView"]


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
    failed_logins: int
    locked_until: datetime | None
    last_login_at: datetime | None

    def locked_at(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until


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
        failed_logins=user.failed_logins,
        locked_until=user.locked_until,
        last_login_at=user.last_login_at,
    )


class Accounts(RecordsBase):
    # -- users ---------------------------------------------------------------------------------

    async def add_user(
        self, username: str, role: Role, password_hash: str, *, now: datetime
    ) -> UserView:
        user = User(username=username, role=role.value, password_hash=password_hash, created_at=now)
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

    async def set_password(self, username: str, password_hash: str) -> None:
        """A new password (also lifts a lock-out): ``hotline users passwd``, or a re-hash."""
        async with self.db.write() as session:
            result = await session.execute(
                update(User)
                .where(User.username == username)
                .values(password_hash=password_hash, failed_logins=0, locked_until=None)
                .returning(User.id)
                .execution_options(synchronize_session=False)
            )
            if result.one_or_none() is None:
                raise NotFound("user", username)

    # -- lock-out ------------------------------------------------------------------------------

    async def record_login_failure(
        self, user_id: int, *, now: datetime, max_failures: int, lock_for: timedelta
    ) -> tuple[int, datetime | None]:
        """Count one wrong password; lock at ``max_failures``. Returns (failures, locked_until).

        One UPDATE counts, so concurrent failures are never lost. A count at the limit belongs to
        a lock that has run out (a locked account is refused before its password is checked), so
        counting starts again at 1.
        """
        if max_failures < 1:
            raise ValueError("max_failures must be at least 1")
        locked = and_(User.locked_until.is_not(None), User.locked_until > now)
        restarted = User.failed_logins >= max_failures
        new_count = case((locked, User.failed_logins), (restarted, 1), else_=User.failed_logins + 1)
        lock_at = literal(now + lock_for, UTCDateTime())
        new_lock = case(
            (locked, User.locked_until),
            (restarted, lock_at if max_failures == 1 else null()),
            (User.failed_logins + 1 >= max_failures, lock_at),
            else_=null(),
        )
        async with self.db.write() as session:
            row = (
                await session.execute(
                    update(User)
                    .where(User.id == user_id)
                    .values(failed_logins=new_count, locked_until=new_lock)
                    .returning(User.failed_logins, User.locked_until)
                    .execution_options(synchronize_session=False)
                )
            ).one_or_none()
        if row is None:
            raise NotFound("user", user_id)
        return int(row[0]), row[1]

    async def record_login_success(self, user_id: int, *, now: datetime) -> None:
        async with self.db.write() as session:
            await session.execute(
                update(User)
                .where(User.id == user_id)
                .values(failed_logins=0, locked_until=None, last_login_at=now)
                .execution_options(synchronize_session=False)
            )

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
                    .where(WebSession.id == session_id, WebSession.expires_at > now)
                )
            ).one_or_none()
        if row is None:
            return None
        web_session, user = row
        return SessionView(_view(user), web_session.csrf_token, web_session.expires_at)

    async def end_session(self, session_id: str) -> None:
        async with self.db.write() as session:
            await session.execute(delete(WebSession).where(WebSession.id == session_id))
