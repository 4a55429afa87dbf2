"""The console's log-in lock-out in the database: per name typed and source address, claims that
hold under parallel attempts (one process or two), back-off, forgetting, and a new password that
lifts locks and ends sessions."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import func, select

from ivr.domain.account_password import CONSOLE_LOCKOUT
from ivr.domain.lockout import Refused, Settled
from ivr.store.database import Database, open_database
from ivr.store.models import LoginThrottle, User
from ivr.store.users import Accounts, Role
from tests.store.support import NOW

POLICY = CONSOLE_LOCKOUT
HOME, ELSEWHERE = "10.0.0.1", "10.0.0.2"
MINUTE = timedelta(minutes=1)


def at(minutes: float) -> datetime:
    return NOW + minutes * MINUTE


async def claim(
    accounts: Accounts, minutes: float = 0, *, name: str = "sup", remote: str = HOME
) -> Refused | None:
    return await accounts.claim_login(name, remote, policy=POLICY, now=at(minutes))


async def settle(
    accounts: Accounts,
    minutes: float = 0,
    *,
    right: bool = False,
    name: str = "sup",
    remote: str = HOME,
) -> Settled:
    assert await claim(accounts, minutes, name=name, remote=remote) is None
    return await accounts.settle_login(name, remote, right=right, policy=POLICY, now=at(minutes))


async def rows(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(LoginThrottle)) or 0)


async def test_five_wrong_passwords_lock_one_name_from_one_address(db: Database) -> None:
    accounts = Accounts(db)
    for n in range(1, 5):
        assert await settle(accounts) == Settled(n, None, newly_locked=False)
    assert await settle(accounts) == Settled(5, NOW + MINUTE, newly_locked=True)
    assert await claim(accounts, 0.5) == Refused(NOW + MINUTE)
    # The same name from elsewhere, and another name from here, are not locked.
    assert await claim(accounts, 0.5, remote=ELSEWHERE) is None
    assert await claim(accounts, 0.5, name="clerk") is None
    # Names are counted whether an account has them or not, and kept only hashed.
    await settle(accounts, name="nobody")
    async with db.read() as session:
        keys = (await session.scalars(select(LoginThrottle.name_hash))).all()
    assert len(keys) == 4 and all(len(key) == 64 and "sup" not in key for key in keys)


async def test_each_further_wrong_password_doubles_the_lock_up_to_an_hour(db: Database) -> None:
    accounts = Accounts(db)
    for _ in range(5):
        await settle(accounts)
    now, locks = 1.0, []
    for _ in range(8):
        # After a lock, one check at a time: it alone may lock again.
        assert await claim(accounts, now) is None
        assert await claim(accounts, now) == Refused(None)
        settled = await accounts.settle_login("sup", HOME, right=False, policy=POLICY, now=at(now))
        assert settled.newly_locked and settled.locked_until is not None
        lock = settled.locked_until - at(now)
        locks.append(lock)
        now += lock / MINUTE
    assert (
        locks == [2 * MINUTE, 4 * MINUTE, 8 * MINUTE, 16 * MINUTE, 32 * MINUTE] + [60 * MINUTE] * 3
    )


async def test_a_day_without_wrong_passwords_forgets_them(db: Database) -> None:
    accounts = Accounts(db)
    for _ in range(5):
        await settle(accounts)
    assert (await settle(accounts, 1)).locked_until == at(3)  # backing off already
    day_later = 24 * 60 + 3
    for n in range(1, 5):
        assert (await settle(accounts, day_later)).failures == n


async def test_the_right_password_resets_and_clears_what_holds_nothing(db: Database) -> None:
    accounts = Accounts(db)
    for _ in range(3):
        await settle(accounts)
    await settle(accounts, name="typo", remote=ELSEWHERE)
    assert await settle(accounts, right=True) == Settled(0, None, newly_locked=False)
    assert await rows(db) == 1  # the typo's row: its failure still counts for a day
    assert (await settle(accounts)).failures == 1
    await settle(accounts, 24 * 60 + 1, right=True)
    assert await rows(db) == 0


async def test_a_hundred_parallel_claims_grant_exactly_five(db: Database) -> None:
    accounts = Accounts(db)
    refusals = await asyncio.gather(*(claim(accounts) for _ in range(100)))
    assert refusals.count(None) == 5 and refusals.count(Refused(None)) == 95
    settled = await asyncio.gather(
        *(accounts.settle_login("sup", HOME, right=False, policy=POLICY, now=NOW) for _ in range(5))
    )
    assert sorted(s.failures for s in settled) == [1, 2, 3, 4, 5]
    assert sum(s.newly_locked for s in settled) == 1
    assert await claim(accounts, 0.1) == Refused(NOW + MINUTE)


async def test_two_nodes_on_one_database_grant_five_in_all(database_url: str, db: Database) -> None:
    other = await open_database(database_url)
    try:
        nodes = [Accounts(db), Accounts(other)]
        # The first attempt of a name makes its row: both nodes race to make it too.
        refusals = await asyncio.gather(*(claim(nodes[n % 2]) for n in range(100)))
    finally:
        await other.close()
    assert refusals.count(None) == 5


async def test_a_new_password_lifts_every_lock_of_the_name_and_ends_its_sessions(
    db: Database,
) -> None:
    accounts = Accounts(db)
    sup = await accounts.add_user("sup", Role.SUPERVISOR, "$argon2id$old", now=NOW)
    clerk = await accounts.add_user("clerk", Role.STAFF, "$argon2id$x", now=NOW)
    for remote in (HOME, ELSEWHERE):
        for _ in range(5):
            await settle(accounts, remote=remote)
    await settle(accounts, name="clerk")
    assert await accounts.locked_logins(at(0.5)) == {"sup": NOW + MINUTE}
    later = NOW + timedelta(hours=1)
    for n, user in enumerate((sup, sup, clerk)):
        await accounts.create_session(f"s{n}", user.id, "csrf", now=NOW, expires=later)
    assert await accounts.set_password("sup", "$argon2id$new") == 2
    assert (
        await claim(accounts, 0.5) is None and await claim(accounts, 0.5, remote=ELSEWHERE) is None
    )
    assert await accounts.locked_logins(at(0.5)) == {}
    assert await accounts.find_session("s0", now=NOW) is None
    assert await accounts.find_session("s2", now=NOW) is not None
    assert await rows(db) == 3  # clerk's failure stays


async def test_a_rehash_keeps_sessions_and_never_undoes_a_new_password(db: Database) -> None:
    accounts = Accounts(db)
    sup = await accounts.add_user("sup", Role.SUPERVISOR, "$argon2id$old", now=NOW)
    await accounts.create_session("s", sup.id, "csrf", now=NOW, expires=NOW + MINUTE)
    await accounts.rehash(sup.id, "$argon2id$old", "$argon2id$same-password")
    assert await accounts.find_session("s", now=NOW) is not None
    await accounts.set_password("sup", "$argon2id$new")
    await accounts.rehash(sup.id, "$argon2id$same-password", "$argon2id$stale")  # raced
    async with db.read() as session:
        assert await session.scalar(select(User.password_hash)) == "$argon2id$new"
