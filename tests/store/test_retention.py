"""The retention policy on a database with old and new rows: what a prune deletes and keeps, the
dry run, the audit entry of each deletion, the files on disk, batches, crashes and two nodes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from ivr.config import Settings
from ivr.domain.callers import Recall
from ivr.store.database import Database, open_database
from ivr.store.models import (
    AuditLogEntry,
    Call,
    CallerLanguage,
    CallStep,
    Recording,
    RecordingAudio,
    VoiceMessage,
)
from ivr.store.records import Records
from ivr.store.retention import (
    DELETE_CALL_PATH,
    DELETE_RECORDING,
    FORGET_LANGUAGES,
    PruneReport,
    Retention,
)
from ivr.store.views import StepRecord
from tests.store.support import NOW, add_person

OLD_RECORDING = NOW - timedelta(days=200)  # past the default 180 days
NEW_RECORDING = NOW - timedelta(days=10)
OLD_CALL = NOW - timedelta(days=800)  # past the default 2 years
NEW_CALL = NOW - timedelta(days=100)
OPERATOR = "operator:test"


@dataclass(frozen=True)
class Seeded:
    """Recordings by what the policy must do with them; calls by the age of their path."""

    handled_message: int  # old, its voice message called back: deleted
    waiting_message: int  # old, its voice message not handled yet: kept
    open_statement: int  # old, its report waits for verification: kept
    lifted_statement: int  # old, its report lifted (closed): deleted
    lapsed_statement: int  # old, its provisional report lapsed (stored provisional): deleted
    new_message: int  # within 180 days: kept
    old_call: int  # path deleted
    new_call: int  # path kept
    recording_call: int  # path kept (200 days old)

    @property
    def deleted(self) -> list[int]:
        return sorted([self.handled_message, self.lifted_statement, self.lapsed_statement])

    @property
    def kept(self) -> list[int]:
        return sorted([self.waiting_message, self.open_statement, self.new_message])


def settings_for(tmp_path: Path, database_url: str) -> Settings:
    return Settings.load(env={}, data_dir=tmp_path / "var", db_url=database_url)


async def seed(records: Records, db: Database, settings: Settings) -> Seeded:
    old_call = await _call(records, "old", OLD_CALL, steps=3)
    new_call = await _call(records, "new", NEW_CALL, steps=2)
    call = await _call(records, "rec", OLD_RECORDING, steps=1)

    async def recording(kind: str, name: str, made: datetime) -> int:
        relative = f"recordings/{kind}/{name}.wav"
        file = settings.data_dir / relative
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(b"RIFF")
        # as nodes sharing PostgreSQL keep it: the sound in the database too
        return await records.add_recording(call, kind, relative, 9.0, audio=b"RIFF", now=made)

    async def message(name: str, made: datetime, *, handled: bool) -> int:
        recording_id = await recording("voice_message", name, made)
        message_id = await records.add_voice_message(call, recording_id, "13900000000", now=made)
        if handled:
            async with db.write() as session:
                await session.execute(
                    update(VoiceMessage)
                    .where(VoiceMessage.id == message_id)
                    .values(handled_at=made + timedelta(days=1))
                )
        return recording_id

    handled = await message("handled", OLD_RECORDING, handled=True)
    waiting = await message("waiting", OLD_RECORDING, handled=False)
    new = await message("new", NEW_RECORDING, handled=True)

    asker = await add_person(db, "420102197305080012", "B12345678")
    open_statement = await recording("statement", "open", OLD_RECORDING)
    await records.report_unverified_loss(
        call_id=call,
        now=OLD_RECORDING,
        id_hash=asker.id_hash,
        id_masked=asker.id_masked,
        recording_id=open_statement,
    )
    finder = await add_person(db, "11010519491231002X", "A12345678")
    lifted_statement = await recording("statement", "lifted", OLD_RECORDING)
    lifted = await records.report_provisional_loss(
        finder.card_id,
        finder.citizen_id,
        call_id=call,
        now=OLD_RECORDING,
        lapse_days=10,
        id_hash=finder.id_hash,
        id_masked=finder.id_masked,
    )
    await records.attach_statement(lifted.id, lifted_statement)
    await records.lift_provisional_report(
        finder.card_id, call_id=None, now=OLD_RECORDING + timedelta(days=1)
    )
    loser = await add_person(db, "440524188001010014", "C12345678")
    lapsed_statement = await recording("statement", "lapsed", OLD_RECORDING)
    lapsed = await records.report_provisional_loss(
        loser.card_id,
        loser.citizen_id,
        call_id=call,
        now=OLD_RECORDING,
        lapse_days=10,
        id_hash=loser.id_hash,
        id_masked=loser.id_masked,
    )
    await records.attach_statement(lapsed.id, lapsed_statement)
    return Seeded(
        handled_message=handled,
        waiting_message=waiting,
        open_statement=open_statement,
        lifted_statement=lifted_statement,
        lapsed_statement=lapsed_statement,
        new_message=new,
        old_call=old_call,
        new_call=new_call,
        recording_call=call,
    )


async def _call(records: Records, name: str, started: datetime, *, steps: int) -> int:
    call_id = (await records.start_call("12333", "1380", name, "PJSIP/x", "zh", started)).call_id
    await records.finish_call(
        call_id,
        ended_at=started + timedelta(minutes=1),
        outcome="served",
        last_node="main",
        next_action="hangup",
        language="zh",
        id_hash=None,
        id_masked=None,
        steps=[
            StepRecord(seq=n, at=started, node="main", kind="input", key="1") for n in range(steps)
        ],
    )
    return call_id


async def deleted_recordings(db: Database) -> list[int]:
    async with db.read() as session:
        rows = await session.scalars(
            select(Recording.id).where(Recording.deleted_at.is_not(None)).order_by(Recording.id)
        )
        return list(rows)


async def audited(db: Database) -> list[tuple[str, str, str]]:
    async with db.read() as session:
        rows = await session.execute(
            select(AuditLogEntry.action, AuditLogEntry.target, AuditLogEntry.actor).order_by(
                AuditLogEntry.id
            )
        )
        return [(action, target, actor) for action, target, actor in rows]


async def steps_of(db: Database, call_id: int) -> int:
    async with db.read() as session:
        count = await session.scalar(
            select(func.count()).select_from(CallStep).where(CallStep.call_id == call_id)
        )
        return int(count or 0)


def files(settings: Settings, names: Sequence[str]) -> dict[str, bool]:
    return {name: (settings.recordings_dir / name).exists() for name in names}


ALL_FILES = [
    "voice_message/handled.wav",
    "voice_message/waiting.wav",
    "voice_message/new.wav",
    "statement/open.wav",
    "statement/lifted.wav",
    "statement/lapsed.wav",
]


@pytest.mark.parametrize("batch", [1, 200])
async def test_prune_deletes_what_is_due_and_keeps_what_is_held(
    records: Records, db: Database, tmp_path: Path, database_url: str, batch: int
) -> None:
    settings = settings_for(tmp_path, database_url)
    seeded = await seed(records, db, settings)
    copy = settings.recording_playback_copy(seeded.handled_message)
    copy.parent.mkdir(parents=True)
    copy.write_bytes(b"RIFF")  # the console's playable copy goes with the recording
    retention = Retention(db, settings)

    report = await retention.prune(NOW, actor=OPERATOR, batch=batch)

    assert report == PruneReport(tuple(seeded.deleted), (seeded.old_call,), 3)
    assert await deleted_recordings(db) == seeded.deleted
    assert files(settings, ALL_FILES) == {
        "voice_message/handled.wav": False,
        "voice_message/waiting.wav": True,  # waits for a call-back
        "voice_message/new.wav": True,
        "statement/open.wav": True,  # its case is open
        "statement/lifted.wav": False,
        "statement/lapsed.wav": False,  # lapsed on its date, though stored provisional
    }
    assert not copy.exists()
    async with db.read() as session:
        archived = set(await session.scalars(select(RecordingAudio.recording_id)))
    assert archived == set(seeded.kept)  # the database's copy goes with the file
    assert await steps_of(db, seeded.old_call) == 0
    assert await steps_of(db, seeded.new_call) == 2
    assert await steps_of(db, seeded.recording_call) == 1
    async with db.read() as session:
        old = await session.get(Call, seeded.old_call)
        new = await session.get(Call, seeded.new_call)
    assert old is not None and old.path_deleted_at == NOW  # the call itself stays
    assert new is not None and new.path_deleted_at is None
    # One audit entry per deletion, by whoever pruned.
    assert sorted(await audited(db)) == sorted(
        [(DELETE_RECORDING, f"recording:{r}", OPERATOR) for r in seeded.deleted]
        + [(DELETE_CALL_PATH, f"call:{seeded.old_call}", OPERATOR)]
    )
    # Nothing is due twice.
    assert await retention.prune(NOW, actor=OPERATOR, batch=batch) == PruneReport()
    assert len(await audited(db)) == 4


async def test_the_audit_entry_says_what_went(
    records: Records, db: Database, tmp_path: Path, database_url: str
) -> None:
    settings = settings_for(tmp_path, database_url)
    seeded = await seed(records, db, settings)
    await Retention(db, settings).prune(NOW)
    async with db.read() as session:
        entry = await session.scalar(
            select(AuditLogEntry).where(
                AuditLogEntry.target == f"recording:{seeded.handled_message}"
            )
        )
        path = await session.scalar(
            select(AuditLogEntry).where(AuditLogEntry.target == f"call:{seeded.old_call}")
        )
    assert entry is not None and entry.actor == "system" and entry.at == NOW
    assert entry.detail == (
        f"voice message of call {seeded.recording_call}, recorded 2024-08-15, kept 180 days"
    )
    assert path is not None and path.detail == "3 steps, kept 730 days"


async def test_a_dry_run_deletes_nothing_and_tells_the_same(
    records: Records, db: Database, tmp_path: Path, database_url: str
) -> None:
    settings = settings_for(tmp_path, database_url)
    seeded = await seed(records, db, settings)
    retention = Retention(db, settings)

    planned = await retention.due(NOW, batch=1)

    assert await deleted_recordings(db) == []
    assert all(files(settings, ALL_FILES).values())
    assert await steps_of(db, seeded.old_call) == 3
    assert await audited(db) == []
    assert planned == await retention.prune(NOW)
    assert planned.recordings == tuple(seeded.deleted)


async def test_a_hold_released_lets_the_next_prune_delete(
    records: Records, db: Database, tmp_path: Path, database_url: str
) -> None:
    settings = settings_for(tmp_path, database_url)
    seeded = await seed(records, db, settings)
    retention = Retention(db, settings)
    await retention.prune(NOW)
    async with db.write() as session:
        await session.execute(
            update(VoiceMessage)
            .where(VoiceMessage.recording_id == seeded.waiting_message)
            .values(handled_at=NOW)
        )
    later = NOW + timedelta(days=1)
    assert (await retention.prune(later)).recordings == (seeded.waiting_message,)
    assert not (settings.recordings_dir / "voice_message/waiting.wav").exists()


async def test_no_limit_keeps_everything(
    records: Records, db: Database, tmp_path: Path, database_url: str
) -> None:
    settings = Settings.load(
        env={"HOTLINE_RECORDING_RETENTION_DAYS": "0", "HOTLINE_CALL_PATH_RETENTION_DAYS": "0"},
        data_dir=tmp_path / "var",
        db_url=database_url,
    )
    await seed(records, db, settings)
    retention = Retention(db, settings)
    assert await retention.due(NOW) == PruneReport()
    assert await retention.prune(NOW) == PruneReport()
    assert all(files(settings, ALL_FILES).values())


async def test_a_batch_that_fails_is_rolled_back_and_done_by_the_next_prune(
    records: Records,
    db: Database,
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = settings_for(tmp_path, database_url)
    seeded = await seed(records, db, settings)
    retention = Retention(db, settings)
    real = Retention._delete_files
    batches = 0

    def second_fails(self: Retention, recordings: Sequence[Any]) -> None:
        nonlocal batches
        batches += 1
        if batches == 2:
            raise OSError("disk went away")
        real(self, recordings)

    monkeypatch.setattr(Retention, "_delete_files", second_fails)
    with pytest.raises(OSError, match="disk went away"):
        await retention.prune(NOW, batch=1)
    # The first batch is done and audited; the second left no trace.
    assert await deleted_recordings(db) == [seeded.handled_message]
    assert await audited(db) == [
        (DELETE_RECORDING, f"recording:{seeded.handled_message}", "system")
    ]
    monkeypatch.setattr(Retention, "_delete_files", real)
    report = await retention.prune(NOW, batch=1)
    assert report.recordings == tuple(seeded.deleted[1:])
    assert await deleted_recordings(db) == seeded.deleted
    assert len(await audited(db)) == 4  # each deletion once


async def test_two_nodes_pruning_at_once_delete_and_audit_each_thing_once(
    records: Records, db: Database, tmp_path: Path, database_url: str
) -> None:
    settings = settings_for(tmp_path, database_url)
    seeded = await seed(records, db, settings)
    other = await open_database(database_url)
    try:
        here, there = await asyncio.gather(
            Retention(db, settings).prune(NOW, batch=1),
            Retention(other, settings).prune(NOW, batch=1),
        )
    finally:
        await other.close()
    assert sorted(here.recordings + there.recordings) == seeded.deleted
    assert here.call_paths + there.call_paths == (seeded.old_call,)
    assert len(await audited(db)) == 4


async def test_a_path_leaving_the_data_folder_is_not_followed(
    records: Records,
    db: Database,
    tmp_path: Path,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = settings_for(tmp_path, database_url)
    outside = tmp_path / "outside.wav"
    outside.write_bytes(b"not the hotline's")
    call = await _call(records, "x", OLD_RECORDING, steps=0)
    climbing = await records.add_recording(
        call, "voice_message", "../outside.wav", 1.0, now=OLD_RECORDING
    )
    absolute = await records.add_recording(
        call, "voice_message", str(outside), 1.0, now=OLD_RECORDING
    )
    with caplog.at_level(logging.WARNING, logger="ivr.store.retention"):
        report = await Retention(db, settings).prune(NOW)
    assert report.recordings == (climbing, absolute)
    assert outside.exists()
    assert caplog.text.count("leaves the data folder") == 2


async def _call_from(records: Records, number: str, *, since: datetime, at: datetime) -> str | None:
    """A call from the number with hash ``number``: the language it looked up."""
    started = await records.start_call(
        "12333", "1380", f"lang-{at:%s}", "PJSIP/x", "zh", at, recall=Recall(number, since)
    )
    return started.remembered_language


async def test_language_choices_unused_for_the_memory_period_are_forgotten(
    records: Records, db: Database, tmp_path: Path, database_url: str
) -> None:
    old, greeted, recent = "a" * 64, "b" * 64, "c" * 64
    await records.remember_language(old, "en", now=NOW - timedelta(days=400))
    await records.remember_language(greeted, "es", now=NOW - timedelta(days=400))
    year_ago = NOW - timedelta(days=365)
    lately = NOW - timedelta(days=10)
    called = await _call_from(records, greeted, since=year_ago - timedelta(days=40), at=lately)
    assert called == "es"  # greeted in it lately (a call from that number looked it up)
    await records.remember_language(recent, "en", now=NOW - timedelta(days=10))
    retention = Retention(db, settings_for(tmp_path, database_url))

    assert (await retention.due(NOW)).languages == 1
    assert (await retention.prune(NOW, actor=OPERATOR, batch=1)).languages == 1

    async with db.read() as session:
        kept = dict(
            (await session.execute(select(CallerLanguage.number_hash, CallerLanguage.language)))
            .tuples()
            .all()
        )
        entry = await session.scalar(
            select(AuditLogEntry).where(AuditLogEntry.action == FORGET_LANGUAGES)
        )
    assert kept == {greeted: "es", recent: "en"}
    assert entry is not None and entry.actor == OPERATOR
    assert entry.detail == "1 callers' language choices, unused for 365 days"
    assert await _call_from(records, old, since=year_ago, at=NOW) is None
    # Choices no longer remembered at all: the next prune forgets every one.
    forgetful = Settings.load(
        env={"HOTLINE_LANGUAGE_MEMORY_DAYS": "0"}, data_dir=tmp_path / "var", db_url=database_url
    )
    assert (await Retention(db, forgetful).prune(NOW)).languages == 2
