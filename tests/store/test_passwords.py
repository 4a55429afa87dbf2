"""Password failures, lock-out and changes: counted exactly, even under heavy concurrency."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import func, select

from ivr.store.database import Database
from ivr.store.models import PasswordChange, SecurityEvent
from ivr.store.records import Records
from tests.store.support import NOW, Person

LOCK = timedelta(hours=24)


async def _fail(
    records: Records, person: Person, *, minutes: int = 0
) -> tuple[int, datetime | None]:
    return await records.record_password_failure(
        person.citizen_id,
        now=NOW + timedelta(minutes=minutes),
        max_failures=3,
        lock_for=LOCK,
        call_id=None,
    )


async def _events(db: Database) -> list[tuple[str, str]]:
    async with db.read() as session:
        rows = await session.execute(
            select(SecurityEvent.kind, SecurityEvent.detail).order_by(SecurityEvent.id)
        )
        return [(kind, detail) for kind, detail in rows]


async def test_third_failure_locks(records: Records, db: Database, person: Person) -> None:
    assert await _fail(records, person) == (1, None)
    assert await _fail(records, person, minutes=1) == (2, None)
    count, until = await _fail(records, person, minutes=2)
    assert (count, until) == (3, NOW + timedelta(minutes=2) + LOCK)
    citizen = await records.find_citizen(person.id_hash)
    assert citizen is not None
    assert (citizen.password_failures, citizen.locked_until) == (3, until)
    kinds = [kind for kind, _ in await _events(db)]
    assert kinds == ["password_failure", "password_failure", "password_failure", "locked"]


async def test_after_the_lock_runs_out_counting_starts_again(
    records: Records, person: Person
) -> None:
    for minute in range(3):
        await _fail(records, person, minutes=minute)
    after = 24 * 60 + 5
    assert await _fail(records, person, minutes=after) == (1, None)


async def test_success_resets_the_count(records: Records, person: Person) -> None:
    await _fail(records, person)
    await _fail(records, person)
    await records.record_password_success(person.citizen_id)
    citizen = await records.find_citizen(person.id_hash)
    assert citizen is not None and citizen.password_failures == 0
    await records.record_password_success(person.citizen_id)  # nothing to do: no write
    assert await _fail(records, person) == (1, None)


async def test_200_concurrent_failures_are_all_counted(
    records: Records, db: Database, person: Person
) -> None:
    results = await asyncio.gather(*(_fail(records, person) for _ in range(200)))
    citizen = await records.find_citizen(person.id_hash)
    assert citizen is not None
    assert citizen.password_failures == 200
    assert sorted(count for count, _ in results) == list(range(1, 201))
    assert citizen.locked_until == NOW + LOCK
    kinds = [kind for kind, _ in await _events(db)]
    assert kinds.count("password_failure") == 200
    assert kinds.count("locked") == 1


async def test_change_password_stores_the_hash_and_unlocks(
    records: Records, db: Database, person: Person
) -> None:
    for minute in range(3):
        await _fail(records, person, minutes=minute)
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


async def test_security_events_and_unknown_citizen(records: Records, db: Database) -> None:
    await records.record_security_event(
        "id_invalid", call_id=None, id_masked="110105********0000", detail="check_character"
    )
    assert await _events(db) == [("id_invalid", "check_character")]
    assert await records.find_citizen("0" * 64) is None
