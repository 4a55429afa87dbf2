"""The write path: BEGIN IMMEDIATE on SQLite, queued writers, row locks on PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event, select, update

from ivr.domain.cards import CardStatus
from ivr.store.database import Database, open_database, upgrade_database
from ivr.store.errors import CardNotReportable
from ivr.store.models import Citizen
from ivr.store.records import Records
from tests.store.support import NOW, Person, add_person


async def test_sqlite_writes_begin_immediate_and_reads_do_not(sqlite_url: str) -> None:
    await upgrade_database(sqlite_url)
    db = await open_database(sqlite_url)
    statements: list[str] = []

    def remember(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.split()[0] + (" IMMEDIATE" if "IMMEDIATE" in statement else ""))

    event.listen(db.engine.sync_engine, "before_cursor_execute", remember)
    try:
        async with db.write() as session:
            await session.execute(select(Citizen.id))
        writes, statements[:] = list(statements), []
        async with db.read() as session:
            await session.execute(select(Citizen.id))
        reads = list(statements)
    finally:
        await db.close()
    assert writes[0] == "BEGIN IMMEDIATE"
    assert reads[0] == "BEGIN"


async def test_two_sqlite_handles_on_one_file_lose_no_update(sqlite_url: str) -> None:
    """Two pools (as two processes would have) writing at once: the busy timeout queues them."""
    await upgrade_database(sqlite_url)
    first, second = await open_database(sqlite_url), await open_database(sqlite_url)
    try:
        person = await add_person(first)

        async def count(db: Database) -> None:
            async with db.write() as session:
                await session.execute(
                    update(Citizen)
                    .where(Citizen.id == person.citizen_id)
                    .values(password_failures=Citizen.password_failures + 1)
                )

        await asyncio.gather(*(count(db) for _ in range(100) for db in (first, second)))
        citizen = await Records(first).find_citizen(person.id_hash)
    finally:
        await first.close()
        await second.close()
    assert citizen is not None and citizen.password_failures == 200


async def test_concurrent_reports_of_one_card_succeed_once(
    records: Records, person: Person
) -> None:
    async def report() -> str:
        try:
            made = await records.report_provisional_loss(
                person.card_id,
                person.citizen_id,
                call_id=None,
                now=NOW,
                lapse_days=10,
                id_hash=person.id_hash,
                id_masked=person.id_masked,
            )
        except CardNotReportable as refused:
            return refused.current_status.value
        return made.status.value

    outcomes = await asyncio.gather(*(report() for _ in range(20)))
    assert sorted(outcomes) == ["provisional"] + [CardStatus.PROVISIONALLY_LOST.value] * 19


async def test_a_failed_write_rolls_back(records: Records, db: Database, person: Person) -> None:
    try:
        async with db.write() as session:
            citizen = await session.get(Citizen, person.citizen_id)
            assert citizen is not None
            citizen.name = "changed"
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    async with db.read() as session:
        assert await session.scalar(select(Citizen.name)) == "测试"
