"""The callers' password lock-out in the database: claims, settling, exact counts under parallel
attempts from one process and from two (as two nodes would), and password changes."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import func, select

from ivr.domain.lockout import Granted, Refused
from ivr.domain.password import caller_lockout
from ivr.store.database import Database, open_database
from ivr.store.models import PasswordChange, SecurityEvent
from ivr.store.records import Records
from tests.store.support import NOW, Person

POLICY = caller_lockout(3, 24)
LOCK = timedelta(hours=24)
SEEDED_HASH = "$argon2id$x"  # tests.store.support.add_person


def at(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


async def claim(records: Records, person: Person, minutes: float = 0) -> Refused | None:
    """The refusal, or None for a claim granted (with the citizen's password hash)."""
    claimed = await records.claim_password_check(person.citizen_id, policy=POLICY, now=at(minutes))
    if isinstance(claimed, Refused):
        return claimed
    assert claimed == Granted(SEEDED_HASH)
    return None


async def wrong(
    records: Records, person: Person, minutes: float = 0
) -> tuple[int, datetime | None]:
    """A claimed check that fails: (failures, locked_until)."""
    assert await claim(records, person, minutes) is None
    settled = await records.settle_password_check(
        person.citizen_id, right=False, policy=POLICY, now=at(minutes), call_id=None
    )
    return settled.failures, settled.locked_until


async def right(records: Records, person: Person, minutes: float = 0) -> None:
    assert await claim(records, person, minutes) is None
    await records.settle_password_check(
        person.citizen_id, right=True, policy=POLICY, now=at(minutes), call_id=None
    )


async def events(db: Database) -> list[tuple[str, str]]:
    async with db.read() as session:
        rows = await session.execute(
            select(SecurityEvent.kind, SecurityEvent.detail).order_by(SecurityEvent.id)
        )
        return [(kind, detail) for kind, detail in rows]


async def test_third_failure_locks_and_a_lock_refuses_claims(
    records: Records, db: Database, person: Person
) -> None:
    assert await wrong(records, person) == (1, None)
    assert await wrong(records, person, 1) == (2, None)
    assert await wrong(records, person, 2) == (3, at(2) + LOCK)
    citizen = await records.find_citizen(person.id_hash)
    assert citizen is not None
    assert (citizen.password_failures, citizen.locked_until) == (3, at(2) + LOCK)
    assert await claim(records, person, 3) == Refused(at(2) + LOCK)
    kinds = [kind for kind, _ in await events(db)]
    assert kinds == ["password_failure", "password_failure", "password_failure", "locked"]


async def test_after_the_lock_runs_out_the_caller_gets_three_tries_again(
    records: Records, person: Person
) -> None:
    for minute in range(3):
        await wrong(records, person, minute)
    after = 24 * 60 + 5
    assert await wrong(records, person, after) == (1, None)
    assert await wrong(records, person, after + 1) == (2, None)


async def test_the_right_password_resets_the_count(records: Records, person: Person) -> None:
    await wrong(records, person)
    await wrong(records, person)
    await right(records, person)
    citizen = await records.find_citizen(person.id_hash)
    assert citizen is not None and citizen.password_failures == 0
    assert await wrong(records, person) == (1, None)


async def test_checks_under_way_count_toward_the_limit(records: Records, person: Person) -> None:
    await wrong(records, person)
    assert await claim(records, person) is None
    assert await claim(records, person) is None
    # One wrong password and two checks under way: those two could lock the account.
    assert await claim(records, person) == Refused(None)
    await records.settle_password_check(
        person.citizen_id, right=True, policy=POLICY, now=NOW, call_id=None
    )
    assert await claim(records, person) is None  # the right one reset the count: room again


async def test_a_check_that_could_not_finish_is_given_back(
    records: Records, person: Person
) -> None:
    for _ in range(3):
        assert await claim(records, person) is None
    assert await claim(records, person) == Refused(None)
    await records.release_password_check(person.citizen_id)
    assert await claim(records, person) is None
    citizen = await records.find_citizen(person.id_hash)
    assert citizen is not None and citizen.password_failures == 0


async def test_claims_of_a_killed_process_stop_counting(records: Records, person: Person) -> None:
    for _ in range(3):
        assert await claim(records, person) is None  # never settled: the process died
    assert await claim(records, person, 0.5) == Refused(None)
    ttl = POLICY.claim_ttl.total_seconds() / 60
    assert await claim(records, person, ttl + 0.1) is None


async def test_forty_parallel_claims_grant_exactly_three(
    records: Records, db: Database, person: Person
) -> None:
    refusals = await asyncio.gather(*(claim(records, person) for _ in range(40)))
    assert refusals.count(None) == 3
    assert refusals.count(Refused(None)) == 37
    settled = await asyncio.gather(
        *(
            records.settle_password_check(
                person.citizen_id, right=False, policy=POLICY, now=NOW, call_id=None
            )
            for _ in range(3)
        )
    )
    assert sorted(s.failures for s in settled) == [1, 2, 3]
    assert [s.newly_locked for s in sorted(settled, key=lambda s: s.failures)] == [
        False,
        False,
        True,
    ]
    kinds = [kind for kind, _ in await events(db)]
    assert kinds.count("password_failure") == 3 and kinds.count("locked") == 1
    assert await claim(records, person, 1) == Refused(NOW + LOCK)


async def test_two_nodes_on_one_database_grant_three_in_all(
    database_url: str, db: Database, person: Person
) -> None:
    """Two handles (each its own connection pool, as two processes or nodes have)."""
    other = await open_database(database_url)
    try:
        nodes = [Records(db), Records(other)]
        claims = await asyncio.gather(
            *(
                nodes[n % 2].claim_password_check(person.citizen_id, policy=POLICY, now=NOW)
                for n in range(40)
            )
        )
    finally:
        await other.close()
    assert claims.count(Granted(SEEDED_HASH)) == 3
    assert claims.count(Refused(None)) == 37


async def test_change_password_stores_the_hash_and_unlocks(
    records: Records, db: Database, person: Person
) -> None:
    for minute in range(3):
        await wrong(records, person, minute)
    await records.change_password(person.citizen_id, "$argon2id$new", call_id=None, now=NOW)
    citizen = await records.find_citizen(person.id_hash)
    assert citizen is not None
    assert (citizen.password_hash, citizen.password_failures, citizen.locked_until) == (
        "$argon2id$new",
        0,
        None,
    )
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(PasswordChange)) == 1


async def test_a_claim_checks_against_the_password_as_it_is_at_the_claim(
    records: Records, person: Person
) -> None:
    """The call reads the citizen once, at the ID check; a password changed since (by another
    call) is the one the claim hands over to check against."""
    assert await records.find_citizen(person.id_hash) is not None  # the ID check's read
    await records.change_password(person.citizen_id, "$argon2id$new", call_id=None, now=NOW)
    claimed = await records.claim_password_check(person.citizen_id, policy=POLICY, now=NOW)
    assert claimed == Granted("$argon2id$new")


async def test_security_events_and_unknown_citizen(records: Records, db: Database) -> None:
    await records.record_security_event(
        "id_invalid", call_id=None, id_masked="110105********0000", detail="check_character"
    )
    assert await events(db) == [("id_invalid", "check_character")]
    assert await records.find_citizen("0" * 64) is None
