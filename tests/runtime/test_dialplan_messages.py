"""Voice messages the dialplan records (no agent took the call) reach the records: the call's
recording and a call-back task on its caller ID, as the flow's own messages do."""

from __future__ import annotations

import asyncio
import os
import time
import wave
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ivr.config import Settings
from ivr.domain.clock import local
from ivr.domain.outcomes import Outcome
from ivr.runtime.dialplan_messages import DialplanMessages, uniqueid_of
from ivr.stack import open_core
from ivr.store.callbacks import CallbackTasks
from ivr.store.database import Database, open_database, upgrade_database
from ivr.store.models import Call, Recording, RecordingAudio, VoiceMessage
from ivr.store.records import Records
from ivr.store.stats import Statistics
from tests.spies import race_to_write

STARTED = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def write_message(
    folder: Path, uniqueid: str, seconds: float, *, age_s: float = 60, hotline: str = "12333"
) -> Path:
    """A message as the dialplan names it, finished ``age_s`` seconds ago."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"message-{hotline}-{uniqueid}.wav"
    with wave.open(str(path), "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(8000)
        sound.writeframes(b"\1\0" * int(8000 * seconds))
    then = time.time() - age_s
    os.utime(path, (then, then))
    return path


async def tasks(db: Database) -> list[tuple[int, str, str, float, str]]:
    async with db.read() as session:
        rows = await session.execute(
            select(
                VoiceMessage.call_id,
                VoiceMessage.callback_number,
                Recording.path,
                Recording.duration_s,
                Recording.kind,
            )
            .join(Recording, Recording.id == VoiceMessage.recording_id)
            .order_by(VoiceMessage.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_the_uniqueid_is_read_back_from_the_file_name() -> None:
    assert uniqueid_of("message-12333-1764535231.42.wav") == "1764535231.42"
    assert uniqueid_of("message-96102-node-2-1764535231.7.wav") == "node-2-1764535231.7"
    assert uniqueid_of("message-12333-hc-6dc2585c121f-2.wav") == "hc-6dc2585c121f-2"
    assert uniqueid_of("statement-12333-1.2.wav") is None
    assert uniqueid_of("message-12333-1.2.wav.tmp") is None
    assert uniqueid_of("message-12333-.wav") is None


async def test_a_finished_message_becomes_the_calls_recording_and_a_call_back_task(
    db: Database, tmp_path: Path
) -> None:
    records = Records(db)
    data = tmp_path / "var"
    folder = data / "recordings"
    call = (
        await records.start_call("12333", "13800138000", "1764535231.42", "L/1", "zh", STARTED)
    ).call_id
    short = (
        await records.start_call("96102", "13900139000", "1764535231.43", "L/2", "zh", STARTED)
    ).call_id
    said = write_message(folder, "1764535231.42", 2.5)
    cough = write_message(folder, "1764535231.43", 0.4)
    recording = write_message(folder, "1764535231.44", 3.0, age_s=0)  # still being recorded
    orphan = write_message(folder, "1764535231.45", 3.0)  # no record: maybe still on its way
    sweep = DialplanMessages(records, folder, data, archive=False)

    assert await sweep.sweep() == 1
    assert await tasks(db) == [
        (
            call,
            "13800138000",
            "recordings/message-12333-1764535231.42.wav",
            2.5,
            "voice_message",
        )
    ]
    assert said.exists() and recording.exists() and orphan.exists()
    assert not cough.exists()  # nothing said: nothing kept
    assert short not in [row[0] for row in await tasks(db)]
    open_tasks = await CallbackTasks(db).tasks(closed_since=STARTED - timedelta(days=1))
    assert [(t.call_id, t.status.value) for t in open_tasks] == [(call, "new")]

    # Swept again, by this process or after a restart: still one task.
    assert await sweep.sweep() == 0
    assert await DialplanMessages(records, folder, data, archive=False).sweep() == 0
    assert len(await tasks(db)) == 1


async def test_on_a_shared_database_the_sound_is_kept_with_the_row(
    db: Database, tmp_path: Path
) -> None:
    records = Records(db)
    folder = tmp_path / "var" / "recordings"
    await records.start_call("12333", "13800138000", "node1-99.1", "L/1", "zh", STARTED)
    path = write_message(folder, "node1-99.1", 1.5)
    assert await DialplanMessages(records, folder, tmp_path / "var", archive=True).sweep() == 1
    async with db.read() as session:
        stored = await session.scalar(select(RecordingAudio.audio))
        count = await session.scalar(select(func.count()).select_from(RecordingAudio))
    assert stored == path.read_bytes() and count == 1


async def test_a_running_core_attaches_the_messages_of_its_calls(
    sqlite_url: str, tmp_path: Path
) -> None:
    settings = Settings.load(
        env={"HOTLINE_ID_HASH_KEY": "k"}, data_dir=tmp_path / "var", db_url=sqlite_url
    )
    await upgrade_database(sqlite_url)
    db = await open_database(sqlite_url)
    try:
        call = (
            await Records(db).start_call("12333", "13800138000", "7.1", "L/1", "zh", STARTED)
        ).call_id
        write_message(settings.recordings_dir, "7.1", 2.0)
        async with AsyncExitStack() as stack:
            await open_core(settings, stack)
            for _ in range(100):  # the first sweep runs as the node starts
                if await tasks(db):
                    break
                await asyncio.sleep(0.05)
        assert [row[:2] for row in await tasks(db)] == [(call, "13800138000")]
    finally:
        await db.close()


async def calls(db: Database) -> list[tuple[int, str, str, str, str, str | None]]:
    async with db.read() as session:
        rows = await session.execute(
            select(
                Call.id, Call.hotline, Call.uniqueid, Call.caller_id, Call.language, Call.outcome
            ).order_by(Call.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_a_message_whose_call_no_process_took_becomes_a_call_of_its_own(
    db: Database, tmp_path: Path
) -> None:
    """No hotline process ran while the caller left the message (the dialplan's fallback took
    it): the first sweep after the start finds the file with no call record."""
    records = Records(db)
    data = tmp_path / "var"
    folder = data / "recordings"
    path = write_message(folder, "1764535299.7", 2.5, age_s=600, hotline="96102")
    left_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    young = write_message(folder, "1764535299.8", 2.0, age_s=30)  # its record may be on its way
    sweep = DialplanMessages(records, folder, data, archive=False)

    assert await sweep.sweep() == 1
    ((call_id, *call),) = await calls(db)
    assert call == ["96102", "1764535299.7", "", "zh", Outcome.VOICE_MESSAGE]
    (row,) = await records.recent_calls()
    assert (row.ended_at, row.started_at) == (left_at, left_at - timedelta(seconds=2.5))
    assert row.duration_s is None  # nothing saw the call start
    assert await tasks(db) == [
        (call_id, "", "recordings/message-96102-1764535299.7.wav", 2.5, "voice_message")
    ]
    (task,) = await CallbackTasks(db).tasks(closed_since=left_at)
    assert (task.call_id, task.status.value, task.left_at) == (call_id, "new", left_at)
    day = local(left_at).date()
    stats = await Statistics(db).call_stats(day, day)
    assert stats.outcomes == {"96102": {"voice_message": 1}}
    assert path.exists() and young.exists()

    # Swept again, by this process or after a restart: still one call, one task.
    assert await sweep.sweep() == 0
    assert await DialplanMessages(records, folder, data, archive=False).sweep() == 0
    assert [c[0] for c in await calls(db)] == [call_id] and len(await tasks(db)) == 1


async def test_a_late_message_of_a_recorded_call_is_never_a_second_call(
    db: Database, tmp_path: Path
) -> None:
    records = Records(db)
    data = tmp_path / "var"
    call = (
        await records.start_call("12333", "13800138000", "1764535299.9", "L/1", "zh", STARTED)
    ).call_id
    write_message(data / "recordings", "1764535299.9", 2.0, age_s=7200)
    assert await DialplanMessages(records, data / "recordings", data, archive=False).sweep() == 1
    assert [c[0] for c in await calls(db)] == [call]
    assert [t[:2] for t in await tasks(db)] == [(call, "13800138000")]


async def test_a_message_left_while_no_hotline_ran_is_recorded_when_one_starts(
    sqlite_url: str, tmp_path: Path
) -> None:
    settings = Settings.load(
        env={"HOTLINE_ID_HASH_KEY": "k"}, data_dir=tmp_path / "var", db_url=sqlite_url
    )
    await upgrade_database(sqlite_url)
    write_message(settings.recordings_dir, "1764535300.1", 2.0, age_s=3600)
    db = await open_database(sqlite_url)
    try:
        async with AsyncExitStack() as stack:
            await open_core(settings, stack)
            for _ in range(100):  # the first sweep runs as the node starts
                if await tasks(db):
                    break
                await asyncio.sleep(0.05)
        ((_, *call),) = await calls(db)
        assert call == ["12333", "1764535300.1", "", "zh", Outcome.VOICE_MESSAGE]
        assert len(await tasks(db)) == 1
    finally:
        await db.close()


@pytest.mark.parametrize("age_s", [60, 600], ids=["its-call", "no-call-record"])
async def test_two_nodes_sweeping_one_message_at_once_record_it_once(
    db: Database, other_node: Database, tmp_path: Path, age_s: float
) -> None:
    """Both nodes see the file on the shared recordings folder and find no message at its path;
    one is held just before it writes while the other stores the message: one call, one
    recording, one call-back task, one sound (``age_s`` 600: a call of its own)."""
    data = tmp_path / "var"
    folder = data / "recordings"
    if age_s < 600:
        await Records(db).start_call("12333", "13800138000", "5.1", "L/1", "zh", STARTED)
    write_message(folder, "5.1", 2.0, age_s=age_s)

    def sweep(node: Database) -> DialplanMessages:
        return DialplanMessages(Records(node), folder, data, archive=True)

    first, second = await race_to_write(
        sweep(db).sweep, db.engine, sweep(other_node).sweep, other_node.engine
    )
    assert sorted([first, second]) == [0, 1]
    assert len(await calls(db)) == 1
    assert [row[2] for row in await tasks(db)] == ["recordings/message-12333-5.1.wav"]
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(RecordingAudio)) == 1


async def test_a_call_recording_at_the_same_path_hides_no_message(
    db: Database, tmp_path: Path
) -> None:
    """Only a voice message at a file's path means the message is stored already."""
    records = Records(db)
    data = tmp_path / "var"
    call = (await records.start_call("12333", "13800138000", "5.2", "L/1", "zh", STARTED)).call_id
    path = write_message(data / "recordings", "5.2", 2.0)
    await records.add_recording(call, "statement", str(path.relative_to(data)), 2.0)
    assert await DialplanMessages(records, data / "recordings", data, archive=False).sweep() == 1
    assert [row[:3] for row in await tasks(db)] == [
        (call, "13800138000", "recordings/message-12333-5.2.wav")
    ]
