"""The daily prune of a running hotline: on its schedule (a clock the test moves), as ``system``,
surviving a failed day, stopped with the stack; and wired into the composition root."""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from ivr.config import Settings
from ivr.domain.clock import BEIJING
from ivr.domain.retention import RetentionPolicy
from ivr.runtime.housekeeping import Housekeeping
from ivr.stack import open_core
from ivr.store.database import upgrade_database
from ivr.store.models import AuditLogEntry, Recording
from ivr.store.retention import SYSTEM, PruneReport
from tests.clocks import StepClock

POLICY = RetentionPolicy(recordings=timedelta(days=180), call_paths=timedelta(days=730))
START = datetime(2025, 3, 3, 12, 0, tzinfo=BEIJING)  # midday: the first prune is tomorrow 03:00


class Recorder:
    """A store that notes each prune; ``failures`` first prunes raise."""

    policy = POLICY

    def __init__(self, failures: int = 0) -> None:
        self.calls: list[tuple[datetime, str]] = []
        self.failures = failures

    async def prune(self, now: datetime, *, actor: str = SYSTEM) -> PruneReport:
        self.calls.append((now, actor))
        if self.failures:
            self.failures -= 1
            raise OSError("database down")
        return PruneReport(recordings=(1, 2), call_paths=(3,), steps=7)


async def test_the_prune_runs_daily_at_three_in_beijing() -> None:
    clock = StepClock(START)
    store = Recorder()
    job = Housekeeping(store, clock=clock)
    await job.start()
    try:
        await clock.tick()
        await clock.tick()
        await clock.tick()
    finally:
        await job.close()
    first = datetime(2025, 3, 4, 3, 0, tzinfo=BEIJING)
    assert store.calls == [
        (first, SYSTEM),
        (first + timedelta(days=1), SYSTEM),
        (first + timedelta(days=2), SYSTEM),
    ]
    assert clock.slept[:2] == [15 * 3600, 24 * 3600]


async def test_a_failed_prune_is_logged_and_tried_again_the_next_day(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = StepClock(START)
    store = Recorder(failures=1)
    job = Housekeeping(store, clock=clock)
    await job.start()
    with caplog.at_level(logging.INFO, logger="ivr.runtime.housekeeping"):
        try:
            await clock.tick()
            await clock.tick()
        finally:
            await job.close()
    assert len(store.calls) == 2
    assert "the daily prune failed" in caplog.text
    assert "deleted 2 recordings, the paths of 1 calls (7 steps)" in caplog.text


async def test_close_stops_the_job_while_it_waits() -> None:
    clock = StepClock(START)
    store = Recorder()
    job = Housekeeping(store, clock=clock)
    await job.start()
    await job.close()
    await job.close()  # twice is fine
    assert store.calls == []


async def test_a_running_core_prunes_daily_as_the_system(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``open_core`` runs the job over its database with the settings' policy, and stops it."""
    clock = StepClock(START)
    monkeypatch.setattr("ivr.runtime.housekeeping.SystemClock", lambda: clock)
    settings = Settings.load(
        env={"HOTLINE_ID_HASH_KEY": "k", "HOTLINE_PRUNE_HOUR": "4"},
        data_dir=tmp_path / "var",
        db_url=sqlite_url,
    )
    await upgrade_database(sqlite_url)
    old = datetime(2024, 1, 1, tzinfo=UTC)
    async with AsyncExitStack() as stack:
        core = await open_core(settings, stack)
        call = (await core.records.start_call("12333", "1380", "u", "PJSIP/x", "zh", old)).call_id
        recording = await core.records.add_recording(
            call, "voice_message", "recordings/x.wav", 2.0, now=old
        )
        (settings.recordings_dir / "x.wav").write_bytes(b"RIFF")
        await clock.tick()
        async with core.database.read() as session:
            deleted = await session.scalar(
                select(Recording.deleted_at).where(Recording.id == recording)
            )
            audit = (await session.execute(select(AuditLogEntry.actor, AuditLogEntry.at))).one()
        pruned_at = datetime(2025, 3, 4, 4, 0, tzinfo=BEIJING)
        assert deleted == pruned_at and tuple(audit) == (SYSTEM, pruned_at)
        assert not (settings.recordings_dir / "x.wav").exists()
        assert [t for t in asyncio.all_tasks() if t.get_name() == "housekeeping"]
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "housekeeping"]
