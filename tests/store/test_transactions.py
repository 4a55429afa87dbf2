"""A transaction as one plain function (``Database.run_write``/``run_read``): on a SQLite file
it runs on a thread of the database's own over a synchronous engine, on PostgreSQL on the event
loop through SQLAlchemy's greenlet bridge. Either way: all of it or nothing, writers of one
process queued, another process's writer waited for, and every statement seen by whoever
watches the store's engine."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Connection, event, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from ivr.store.database import Database, open_database, upgrade_database
from ivr.store.models import Citizen, SecurityEvent, table_of
from ivr.store.records import Records
from tests.store.support import NOW, Person, add_person

CITIZENS = table_of(Citizen)
EVENTS = table_of(SecurityEvent)


def _failures(connection: Connection, citizen_id: int) -> int:
    count = connection.execute(
        select(CITIZENS.c.password_failures).where(CITIZENS.c.id == citizen_id)
    ).scalar_one()
    assert isinstance(count, int)
    return count


def _count_one(citizen_id: int) -> Callable[[Connection], None]:
    """A read-modify-write: the citizen's failures read, then written back plus one."""

    def count_one(connection: Connection) -> None:
        seen = _failures(connection, citizen_id)
        connection.execute(
            update(CITIZENS).where(CITIZENS.c.id == citizen_id).values(password_failures=seen + 1)
        )

    return count_one


def _holding_write(
    holding: threading.Event, release: threading.Event
) -> Callable[[Connection], None]:
    """A write that says when it holds the write lock, then keeps it until ``release``."""

    def slow(connection: Connection) -> None:
        connection.execute(update(CITIZENS).values(password_checks=10))
        holding.set()
        release.wait(10)

    return slow


async def _event_count(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(SecurityEvent)) or 0)


async def test_a_write_returns_what_its_function_returns_and_commits(
    db: Database, person: Person
) -> None:
    def count_one(connection: Connection) -> int:
        connection.execute(
            update(CITIZENS)
            .where(CITIZENS.c.id == person.citizen_id)
            .values(password_failures=CITIZENS.c.password_failures + 1)
        )
        return _failures(connection, person.citizen_id)

    assert await db.run_write(count_one) == 1
    assert await db.run_read(lambda c: _failures(c, person.citizen_id)) == 1


async def test_an_error_in_the_function_rolls_back_all_it_wrote(
    db: Database, person: Person
) -> None:
    def half_done(connection: Connection) -> None:
        connection.execute(
            update(CITIZENS)
            .where(CITIZENS.c.id == person.citizen_id)
            .values(name="changed", password_failures=5)
        )
        connection.execute(insert(EVENTS).values(at=NOW, kind="password_failure", detail="5/5"))
        raise RuntimeError("half-way")

    with pytest.raises(RuntimeError, match="half-way"):
        await db.run_write(half_done)
    citizen = await Records(db).find_citizen(person.id_hash)
    assert citizen is not None and (citizen.name, citizen.password_failures) == ("测试", 0)
    assert await _event_count(db) == 0


async def test_a_failing_statement_raises_the_database_error_and_undoes_the_rest(
    db: Database, person: Person
) -> None:
    def into_nowhere(connection: Connection) -> None:
        connection.execute(insert(EVENTS).values(at=NOW, kind="locked_attempt", detail=""))
        connection.execute(text("INSERT INTO no_such_table VALUES (1)"))

    with pytest.raises(DBAPIError):
        await db.run_write(into_nowhere)
    assert await _event_count(db) == 0


async def test_a_read_leaves_nothing_behind(db: Database, person: Person) -> None:
    def write_then_read(connection: Connection) -> int:
        connection.execute(
            update(CITIZENS).where(CITIZENS.c.id == person.citizen_id).values(password_failures=3)
        )
        return _failures(connection, person.citizen_id)

    assert await db.run_read(write_then_read) == 3
    assert await db.run_read(lambda c: _failures(c, person.citizen_id)) == 0


async def test_concurrent_read_modify_writes_of_one_process_all_land(sqlite_url: str) -> None:
    """Each reads the count and writes it back plus one: on SQLite no update is lost and none
    fails with "database is locked" (the writers queue, each BEGIN IMMEDIATE)."""
    await upgrade_database(sqlite_url)
    db = await open_database(sqlite_url)
    try:
        person = await add_person(db)
        count_one = _count_one(person.citizen_id)
        await asyncio.gather(*(db.run_write(count_one) for _ in range(200)))
        assert await db.run_read(lambda c: _failures(c, person.citizen_id)) == 200
    finally:
        await db.close()


async def test_sessions_and_transaction_functions_take_turns(sqlite_url: str) -> None:
    """The console's session writes and a call's functions, at once: one write lock."""
    await upgrade_database(sqlite_url)
    db = await open_database(sqlite_url)
    try:
        person = await add_person(db)
        count_one = _count_one(person.citizen_id)

        async def by_session() -> None:
            async with db.write() as session:
                seen = await session.scalar(
                    select(Citizen.password_failures).where(Citizen.id == person.citizen_id)
                )
                assert seen is not None
                await session.execute(
                    update(Citizen)
                    .where(Citizen.id == person.citizen_id)
                    .values(password_failures=seen + 1)
                )

        await asyncio.gather(
            *(w for _ in range(50) for w in (db.run_write(count_one), by_session()))
        )
        assert await db.run_read(lambda c: _failures(c, person.citizen_id)) == 100
    finally:
        await db.close()


# Another process (the CLI seeding, an operator's command) writing to the same file.
_OTHER_WRITER = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
if sys.argv[2] == "hold":  # take the write lock, say so, keep it a while
    connection.execute("BEGIN IMMEDIATE")
    connection.execute("UPDATE citizens SET name = 'other'")
    print("holding", flush=True)
    time.sleep(float(sys.argv[3]))
    connection.execute("COMMIT")
else:  # write once, waiting for the lock as long as the timeout allows
    started = time.monotonic()
    connection.execute("UPDATE citizens SET password_checks = password_checks + 1")
    print(f"{time.monotonic() - started:.3f}", flush=True)
"""


async def _other_process(path: str, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", _OTHER_WRITER, path, *args, stdout=asyncio.subprocess.PIPE
    )


async def test_a_write_waits_for_another_process_holding_the_write_lock(sqlite_url: str) -> None:
    await upgrade_database(sqlite_url)
    db = await open_database(sqlite_url)
    path = sqlite_url.split("///", 1)[1]
    try:
        person = await add_person(db)
        other = await _other_process(path, "hold", "1.0")
        assert other.stdout is not None
        assert await other.stdout.readline() == b"holding\n"
        written = await db.run_write(
            lambda c: c.execute(
                update(CITIZENS)
                .where(CITIZENS.c.id == person.citizen_id)
                .values(password_failures=CITIZENS.c.password_failures + 1)
                .returning(CITIZENS.c.name)
            ).scalar_one()
        )
        assert await other.wait() == 0
    finally:
        await db.close()
    assert written == "other"  # ours came after the other process's commit, not instead


async def test_another_process_waits_for_a_write_in_progress(sqlite_url: str) -> None:
    await upgrade_database(sqlite_url)
    db = await open_database(sqlite_url)
    path = sqlite_url.split("///", 1)[1]
    holding, release = threading.Event(), threading.Event()
    slow = _holding_write(holding, release)

    try:
        await add_person(db)
        ours = asyncio.create_task(db.run_write(slow))
        await asyncio.to_thread(holding.wait, 10)
        other = await _other_process(path, "write")
        await asyncio.sleep(0.5)
        assert other.returncode is None  # still waiting for our transaction
        release.set()
        await ours
        assert other.stdout is not None
        waited = float(await other.stdout.readline())
        assert await other.wait() == 0
        checks = await db.run_read(lambda c: c.execute(select(CITIZENS.c.password_checks)).scalar())
    finally:
        release.set()
        await db.close()
    assert waited >= 0.4
    assert checks == 11  # ours, then the other process's on top


async def test_listeners_of_the_store_engine_hear_every_transaction(
    db: Database, person: Person
) -> None:
    statements: list[str] = []

    def remember(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(" ".join(statement.split()[:2]))

    event.listen(db.engine.sync_engine, "before_cursor_execute", remember)
    try:
        await db.run_write(lambda c: _failures(c, person.citizen_id))
        writes, statements[:] = list(statements), []
        await db.run_read(lambda c: _failures(c, person.citizen_id))
        reads = list(statements)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", remember)
    assert writes[-1].startswith("SELECT citizens.password_failures")
    assert reads[-1].startswith("SELECT citizens.password_failures")
    if db.is_sqlite:  # PostgreSQL's driver begins its transactions itself
        assert (writes[0], reads[0]) == ("BEGIN IMMEDIATE", "BEGIN")


async def test_the_observers_time_and_count_the_functions_statements(database_url: str) -> None:
    await upgrade_database(database_url)
    timed: list[str] = []
    failed: list[str] = []
    db = await open_database(
        database_url,
        on_statement=lambda operation, _seconds: timed.append(operation),
        on_error=failed.append,
    )
    try:
        await db.run_read(lambda c: c.execute(select(CITIZENS.c.id)).all())
        with pytest.raises(DBAPIError):
            await db.run_write(lambda c: c.execute(text("UPDATE no_such_table SET x = 1")))
    finally:
        await db.close()
    assert "connect" in timed and "select" in timed
    assert failed == ["update"]


async def test_a_cancelled_writer_keeps_its_turn_until_its_transaction_ends(
    sqlite_url: str,
) -> None:
    """Its thread runs on to the commit; the next writer of the process begins only then, on
    the write lock, not against SQLite's lock on the busy timeout."""
    await upgrade_database(sqlite_url)
    db = await open_database(sqlite_url)
    holding, release = threading.Event(), threading.Event()
    connected: list[str] = []
    slow = _holding_write(holding, release)

    def quick(connection: Connection) -> None:
        connection.execute(update(CITIZENS).values(password_checks=CITIZENS.c.password_checks + 1))

    try:
        await add_person(db)
        # Told as a transaction takes its connection, before its BEGIN (which would wait).
        event.listen(db.engine.sync_engine, "engine_connect", lambda _c: connected.append("write"))
        cancelled = asyncio.create_task(db.run_write(slow))
        await asyncio.to_thread(holding.wait, 10)
        cancelled.cancel()
        following = asyncio.create_task(db.run_write(quick))
        await asyncio.sleep(0.3)
        assert connected == ["write"]  # the following writer waits its turn, unconnected
        release.set()
        await following
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        checks = await db.run_read(lambda c: c.execute(select(CITIZENS.c.password_checks)).scalar())
    finally:
        release.set()
        await db.close()
    assert checks == 11  # the cancelled writer's transaction committed whole, then the next


async def test_without_a_worker_engine_sqlite_runs_the_functions_on_the_loop(
    sqlite_url: str,
) -> None:
    """A ``Database`` built on the async engine alone (a SQLite in memory): the same functions
    through the greenlet bridge: concurrent read-modify-writes all land, an error undoes all."""
    await upgrade_database(sqlite_url)
    db = await open_database(sqlite_url)
    bridged = Database(db.engine)
    try:
        person = await add_person(db)
        count_one = _count_one(person.citizen_id)

        def half_done(connection: Connection) -> None:
            count_one(connection)
            raise RuntimeError("half-way")

        await asyncio.gather(*(bridged.run_write(count_one) for _ in range(30)))
        with pytest.raises(RuntimeError, match="half-way"):
            await bridged.run_write(half_done)
        assert await bridged.run_read(lambda c: _failures(c, person.citizen_id)) == 30
    finally:
        await db.close()
