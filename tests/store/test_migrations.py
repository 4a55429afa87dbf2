"""The migrations create exactly the schema the models describe, from any working folder."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import column, func, insert, inspect, select, table
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.database import open_database, upgrade_database
from ivr.store.migrate import alembic_config, upgrade_sync
from ivr.store.models import (
    Base,
    Call,
    CallHour,
    CallNodeDay,
    CallStep,
    Recording,
    RecordingAudio,
    User,
    VoiceMessage,
    WebSession,
)
from ivr.store.rollups import CallEnd, Tally, save_tally
from ivr.store.types import UTCDateTime
from tests.store.support import NOW


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_upgrade_creates_the_models_schema(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no alembic.ini anywhere near: the configuration is in code
    await upgrade_database(database_url)
    await upgrade_database(database_url)  # at head already: nothing to do
    db = await open_database(database_url)
    try:
        async with db.engine.connect() as connection:
            tables = await connection.run_sync(_tables)
            diff = await connection.run_sync(_diff)
    finally:
        await db.close()
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
    assert diff == []


async def test_runs_are_added_to_a_database_holding_calls(database_url: str) -> None:
    """0003 adds ``calls.run_id`` in place: rebuilding ``calls`` would break steps' references."""
    await asyncio.to_thread(upgrade_sync, database_url, "0002")
    db = await open_database(database_url)
    try:
        async with db.write() as session:
            call_id = await session.scalar(
                insert(Call)
                .values(hotline="12333", caller_id="1380", uniqueid="1.1", channel="PJSIP/x")
                .values(started_at=NOW, language="zh")
                .returning(Call.id)
            )
            await session.execute(
                insert(CallStep).values(call_id=call_id, seq=0, at=NOW, node="main", kind="input")
            )
        await upgrade_database(database_url)
        await asyncio.to_thread(command.downgrade, alembic_config(database_url), "0002")
        await upgrade_database(database_url)
        async with db.read() as session:
            rows = await session.execute(
                select(Call.run_id, func.count()).join(CallStep).group_by(Call.run_id)
            )
            found = [tuple(row) for row in rows]
    finally:
        await db.close()
    assert found == [(None, 1)]


async def test_lockouts_upgrade_a_database_with_accounts_and_sessions(database_url: str) -> None:
    """0004 drops the account's lock columns in place: sessions refer to ``users``."""
    await asyncio.to_thread(upgrade_sync, database_url, "0003")
    db = await open_database(database_url)
    try:
        async with db.write() as session:
            # The table as 0003 left it, the lock-out columns with it.
            users_0003 = table(
                "users",
                column("id"),
                column("username"),
                column("role"),
                column("password_hash"),
                column("failed_logins"),
                column("created_at", UTCDateTime()),
            )
            user_id = await session.scalar(
                insert(users_0003)
                .values(username="sup", role="supervisor", password_hash="$argon2id$x")
                .values(failed_logins=4, created_at=NOW)
                .returning(users_0003.c.id)
            )
            await session.execute(
                insert(WebSession).values(
                    id="s", user_id=user_id, csrf_token="c", created_at=NOW, expires_at=NOW
                )
            )
        await upgrade_database(database_url)
        async with db.read() as session:
            found = (
                await session.execute(select(User.username, WebSession.id).join(WebSession))
            ).all()
    finally:
        await db.close()
    assert [tuple(row) for row in found] == [("sup", "s")]


async def _call(session: AsyncSession, uniqueid: str, *, caller_id: str, channel: str) -> int:
    call_id = await session.scalar(
        insert(Call)
        .values(hotline="12333", caller_id=caller_id, uniqueid=uniqueid, channel=channel)
        .values(language="zh", started_at=NOW, ended_at=NOW + timedelta(seconds=30))
        .values(outcome="voice_message")
        .returning(Call.id)
    )
    assert isinstance(call_id, int)
    return call_id


async def _message(
    session: AsyncSession, call_id: int, path: str, **task: object
) -> tuple[int, int]:
    recording_id = await session.scalar(
        insert(Recording)
        .values(call_id=call_id, kind="voice_message", path=path, duration_s=3.0, created_at=NOW)
        .returning(Recording.id)
    )
    task_id = await session.scalar(
        insert(VoiceMessage)
        .values(call_id=call_id, recording_id=recording_id, callback_number="", created_at=NOW)
        .values(**task)
        .returning(VoiceMessage.id)
    )
    assert isinstance(recording_id, int) and isinstance(task_id, int)
    return recording_id, task_id


async def test_duplicate_voice_messages_are_merged_before_the_index(database_url: str) -> None:
    """0010: what two sweeps stored twice before it becomes one message, one call-back task and
    (for a message no process took) one call, counted once; then a second is refused."""
    await asyncio.to_thread(upgrade_sync, database_url, "0009")
    db = await open_database(database_url)
    swept = CallEnd("12333", NOW, NOW + timedelta(seconds=30), "voice_message", None, None, None)
    try:
        async with db.write() as session:
            # Two sweeps attached one file to the flow's call; a supervisor handled the second.
            call = await _call(session, "1.1", caller_id="13800138000", channel="PJSIP/a")
            kept, _ = await _message(session, call, "recordings/message-12333-1.1.wav")
            duplicate, handled = await _message(
                session, call, "recordings/message-12333-1.1.wav", status="done", handled_at=NOW
            )
            await session.execute(insert(RecordingAudio).values(recording_id=duplicate, audio=b"A"))
            # Two sweeps each made a call of its own for a message no process took.
            first = await _call(session, "1.2", caller_id="", channel="")
            second = await _call(session, "1.2", caller_id="", channel="")
            orphan, orphan_task = await _message(session, first, "recordings/message-12333-1.2.wav")
            await _message(session, second, "recordings/message-12333-1.2.wav")
            alone, _ = await _message(session, call, "recordings/voice_message/12333-1-9.wav")
            tally = Tally()
            tally.add(swept)
            tally.add(swept)
            await save_tally(session, tally)
        await upgrade_database(database_url)
        async with db.read() as session:
            recordings = (await session.execute(select(Recording.id, Recording.call_id))).all()
            tasks = (
                await session.execute(
                    select(VoiceMessage.id, VoiceMessage.recording_id, VoiceMessage.status)
                )
            ).all()
            sounds = (await session.execute(select(RecordingAudio.recording_id))).all()
            calls = set(await session.scalars(select(Call.id)))
            hours = (await session.execute(select(CallHour.calls, CallHour.handling_us))).all()
            days = set(await session.scalars(select(CallNodeDay.calls)))
        with pytest.raises(IntegrityError):
            async with db.write() as session:
                await _message(session, call, "recordings/message-12333-1.1.wav")
    finally:
        await db.close()
    assert sorted(map(tuple, recordings)) == [(kept, call), (orphan, first), (alone, call)]
    assert (handled, kept, "done") in set(map(tuple, tasks))  # the furthest along, moved
    assert (orphan_task, orphan, "new") in set(map(tuple, tasks)) and len(tasks) == 3
    assert [tuple(row) for row in sounds] == [(kept,)]
    assert calls == {call, first}
    assert [tuple(row) for row in hours] == [(1, 30_000_000)] and days == {1}


async def test_open_database_does_not_migrate(database_url: str) -> None:
    db = await open_database(database_url)
    try:
        async with db.engine.connect() as connection:
            assert await connection.run_sync(_tables) == set()
    finally:
        await db.close()


async def test_sqlite_pragmas(sqlite_url: str) -> None:
    await upgrade_database(sqlite_url)
    db = await open_database(sqlite_url)
    try:
        async with db.read() as session:
            connection = await session.connection()
            mode = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
            keys = (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar()
    finally:
        await db.close()
    assert (mode, keys) == ("wal", 1)


def test_postgresql_url_is_rewritten_to_asyncpg() -> None:
    from ivr.store.database import async_url

    assert async_url("postgresql://u@h/db").drivername == "postgresql+asyncpg"
    assert async_url("sqlite:///x.db").drivername == "sqlite+aiosqlite"
    with pytest.raises(ValueError, match="unsupported"):
        async_url("mysql://u@h/db")
