"""A voice message the dialplan recorded for a call with no record: a call of its own, once."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from ivr.store.database import Database
from ivr.store.models import Call, Recording, VoiceMessage
from ivr.store.records import Records

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
