"""A voice message the dialplan recorded for a call with no record: a call of its own, once;
and any message once, however many sweeps store it at the same moment."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from ivr.store.database import Database
from ivr.store.models import Call, CallHour, Recording, RecordingAudio, VoiceMessage
from ivr.store.records import Records
from tests.spies import race_to_write

LEFT = datetime(2026, 11, 30, 23, 10, tzinfo=UTC)
PATH = "recordings/message-12333-9.1.wav"


async def counts(db: Database) -> tuple[int, int, int]:
    async with db.read() as session:
        return (
            await session.scalar(select(func.count()).select_from(Call)) or 0,
            await session.scalar(select(func.count()).select_from(Recording)) or 0,
            await session.scalar(select(func.count()).select_from(VoiceMessage)) or 0,
        )


async def unattended(records: Records) -> tuple[int, bool]:
    return await records.record_unattended_message(
        hotline="12333", uniqueid="9.1", language="zh", left_at=LEFT, path=PATH, duration_s=2.0
    )


async def test_a_message_is_recorded_once_however_often_it_is_told(
    db: Database, records: Records
) -> None:
    recording_id, new = await unattended(records)
    assert new and await counts(db) == (1, 1, 1)
    assert await unattended(records) == (recording_id, False)  # a second sweep, a second node
    assert await counts(db) == (1, 1, 1)


async def test_a_call_recorded_meanwhile_gets_the_message_instead(
    db: Database, records: Records
) -> None:
    call_id = (await records.start_call("12333", "13800138000", "9.1", "L/1", "zh", LEFT)).call_id
    _, new = await unattended(records)
    assert new and await counts(db) == (1, 1, 1)
    async with db.read() as session:
        task = await session.execute(select(VoiceMessage.call_id, VoiceMessage.callback_number))
        assert tuple(task.one()) == (call_id, "13800138000")


async def stored(db: Database) -> tuple[int, int, int, int, int]:
    """Calls, recordings, call-back tasks, sounds kept, and calls counted in the rollups."""
    async with db.read() as session:
        return (
            *await counts(db),
            await session.scalar(select(func.count()).select_from(RecordingAudio)) or 0,
            await session.scalar(select(func.sum(CallHour.calls))) or 0,
        )


Store = Callable[[Records], Awaitable[tuple[int, bool]]]


async def unattended_with_sound(records: Records) -> tuple[int, bool]:
    return await records.record_unattended_message(
        hotline="12333",
        uniqueid="9.1",
        language="zh",
        left_at=LEFT,
        path=PATH,
        duration_s=2.0,
        audio=b"RIFF",
    )


async def attached_with_sound(records: Records) -> tuple[int, bool]:
    attached = await records.attach_dialplan_message("9.1", PATH, 2.0, audio=b"RIFF", now=LEFT)
    assert attached is not None
    return attached


@pytest.mark.parametrize(
    ("store", "call_recorded"),
    [(unattended_with_sound, False), (attached_with_sound, True)],
    ids=["no-call-record", "its-call"],
)
async def test_two_sweeps_storing_one_message_at_once_store_it_once(
    db: Database, other_node: Database, store: Store, call_recorded: bool
) -> None:
    """Two nodes' sweeps find the same file: the first is held after it found no message at the
    path, just before it writes, while the second stores it; the first then writes nothing."""
    if call_recorded:  # in progress: out of the rollups
        await Records(db).start_call("12333", "13800138000", "9.1", "L/1", "zh", LEFT)
    first, second = await race_to_write(
        lambda: store(Records(db)), db.engine, lambda: store(Records(other_node)), other_node.engine
    )
    assert sorted([first[1], second[1]]) == [False, True]  # one stored it, one found it
    assert first[0] == second[0]
    assert await stored(db) == (1, 1, 1, 1, 0 if call_recorded else 1)
    async with db.read() as session:
        path = await session.scalar(select(Recording.path).where(Recording.id == first[0]))
    assert path == PATH
