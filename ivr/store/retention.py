"""The retention policy (``ivr.domain.retention``) applied to the records: what is due, and its
deletion, by ``hotline db prune`` and by the daily job of a running hotline
(``ivr.runtime.housekeeping``).

- A recording due is deleted from disk (with the console's playable copy of it) and its row
  marked ``deleted_at``; the row stays, so the console can tell what was there and when it went.
  A recording held (``recording_holds``: its loss report open, its voice message not handled) is
  passed over until the hold ends.
- A call's path due (its steps) is deleted and the call marked ``path_deleted_at``; the call row
  stays for the call log and the statistics.
- A caller's language choice unused for the policy's ``language_memory`` is deleted (a row holds
  nothing but a keyed hash and a language; one audit entry per batch counts them).

The work goes in batches, each one transaction: the rows are claimed by a conditional UPDATE (two
nodes pruning at once never delete or audit one thing twice; PostgreSQL skips the rows another
node holds), an audit entry is added for each deletion, the files are deleted (in a worker
thread), then it commits. A crash before the commit leaves the rows due, and the next prune
finishes the work (a file gone already is fine): a row is never marked deleted while its file
stays. ``due`` asks the same questions without writing: what ``prune`` would delete now.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path, PurePosixPath

from sqlalchemy import ColumnElement, Select, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from ivr.config import Settings
from ivr.domain.cards import OPEN_STATUSES, report_open
from ivr.domain.clock import local, stamp
from ivr.domain.retention import Hold, RetentionPolicy
from ivr.store.audit import audit_entry
from ivr.store.base import RecordsBase
from ivr.store.database import Database
from ivr.store.models import (
    Call,
    CallerLanguage,
    CallStep,
    LossReport,
    Recording,
    RecordingAudio,
    VoiceMessage,
)

log = logging.getLogger(__name__)

__all__ = [
    "BATCH",
    "DELETE_CALL_PATH",
    "DELETE_RECORDING",
    "FORGET_LANGUAGES",
    "SYSTEM",
    "PruneReport",
    "Retention",
    "recording_holds",
]

BATCH = 200  # rows per transaction: short enough not to hold up the calls' writes
SYSTEM = "system"  # the actor of the daily job in the audit log
DELETE_RECORDING = "delete_recording"  # audit actions
DELETE_CALL_PATH = "delete_call_path"
FORGET_LANGUAGES = "forget_languages"


@dataclass(frozen=True)
class PruneReport:
    """What a prune deleted (or, from ``due``, would delete)."""

    recordings: tuple[int, ...] = ()  # recording ids
    call_paths: tuple[int, ...] = ()  # ids of the calls whose steps go
    steps: int = 0  # steps in those paths
    languages: int = 0  # callers' language choices forgotten

    def summary(self) -> str:
        return (
            f"{len(self.recordings)} recordings, the paths of {len(self.call_paths)} calls "
            f"({self.steps} steps) and {self.languages} callers' language choices"
        )


@dataclass(frozen=True)
class _Due:
    id: int
    call_id: int
    kind: str
    path: str
    created_at: datetime


class Retention(RecordsBase):
    """The policy of ``settings`` over ``db``; files are found under ``settings.data_dir``."""

    def __init__(self, db: Database, settings: Settings) -> None:
        super().__init__(db)
        self.settings = settings
        self.policy = RetentionPolicy.from_settings(settings)

    async def due(self, now: datetime, *, batch: int = BATCH) -> PruneReport:
        """What ``prune`` would delete at ``now``; nothing is written."""
        recordings: list[int] = []
        paths: list[int] = []
        steps = 0
        made_before = self.policy.recordings_made_before(now)
        started_before = self.policy.calls_started_before(now)
        async with self.db.read() as session:
            after = 0
            while made_before is not None:
                found, after = await _due_recordings(
                    session, made_before, _today(now), after=after, limit=batch, lock=False
                )
                if after == 0:
                    break
                recordings += [r.id for r in found]
            after = 0
            while started_before is not None:
                calls = list(
                    await session.scalars(
                        _due_paths(started_before).where(Call.id > after).limit(batch)
                    )
                )
                if not calls:
                    break
                after = calls[-1]
                paths += calls
                steps += sum((await _step_counts(session, calls)).values())
            languages = await session.scalar(
                select(func.count()).where(_languages_due(self.policy.languages_used_before(now)))
            )
        return PruneReport(tuple(recordings), tuple(paths), steps, int(languages or 0))

    async def prune(self, now: datetime, *, actor: str = SYSTEM, batch: int = BATCH) -> PruneReport:
        """Delete what is due at ``now``, auditing each deletion as ``actor``."""
        recordings = await self._prune_recordings(now, actor=actor, batch=batch)
        paths, steps = await self._prune_paths(now, actor=actor, batch=batch)
        languages = await self._prune_languages(now, actor=actor, batch=batch)
        await self.db.analyze()  # the daily moment to refresh what the planner knows of the tables
        return PruneReport(tuple(recordings), tuple(paths), steps, languages)

    async def _prune_recordings(self, now: datetime, *, actor: str, batch: int) -> list[int]:
        made_before = self.policy.recordings_made_before(now)
        kept = self.policy.recordings
        deleted: list[int] = []
        after = 0
        while made_before is not None and kept is not None:
            async with self.db.write() as session:
                found, after = await _due_recordings(
                    session, made_before, _today(now), after=after, limit=batch, lock=True
                )
                if after == 0:
                    break
                claimed = set(
                    await _claim(
                        session, Recording, Recording.deleted_at, [r.id for r in found], now
                    )
                )
                gone = [r for r in found if r.id in claimed]
                await session.execute(
                    delete(RecordingAudio).where(RecordingAudio.recording_id.in_(claimed))
                )
                for r in gone:
                    session.add(
                        audit_entry(
                            DELETE_RECORDING,
                            actor=actor,
                            target=f"recording:{r.id}",
                            detail=f"{r.kind.replace('_', ' ')} of call {r.call_id}, recorded "
                            f"{stamp(r.created_at, '%Y-%m-%d')}, kept {kept.days} days",
                            now=now,
                        )
                    )
                await session.flush()
                await asyncio.to_thread(self._delete_files, gone)
            deleted += [r.id for r in gone]
        return deleted

    async def _prune_paths(self, now: datetime, *, actor: str, batch: int) -> tuple[list[int], int]:
        started_before = self.policy.calls_started_before(now)
        kept = self.policy.call_paths
        deleted: list[int] = []
        steps = 0
        while started_before is not None and kept is not None:
            async with self.db.write() as session:
                calls = list(
                    await session.scalars(
                        _due_paths(started_before)
                        .limit(batch)
                        .with_for_update(skip_locked=True, key_share=True)
                    )
                )
                if not calls:
                    break
                claimed = sorted(await _claim(session, Call, Call.path_deleted_at, calls, now))
                counts = await _step_counts(session, claimed)
                await session.execute(delete(CallStep).where(CallStep.call_id.in_(claimed)))
                for call_id in claimed:
                    session.add(
                        audit_entry(
                            DELETE_CALL_PATH,
                            actor=actor,
                            target=f"call:{call_id}",
                            detail=f"{counts.get(call_id, 0)} steps, kept {kept.days} days",
                            now=now,
                        )
                    )
            deleted += claimed
            steps += sum(counts.values())
        return deleted, steps

    async def _prune_languages(self, now: datetime, *, actor: str, batch: int) -> int:
        used_before = self.policy.languages_used_before(now)
        memory = self.policy.language_memory
        kept = f"unused for {memory.days} days" if memory else "no longer remembered"
        forgotten = 0
        while True:
            async with self.db.write() as session:
                hashes = list(
                    await session.scalars(
                        select(CallerLanguage.number_hash)
                        .where(_languages_due(used_before))
                        .limit(batch)
                        .with_for_update(skip_locked=True)
                    )
                )
                if not hashes:
                    return forgotten
                gone = (
                    await session.execute(
                        delete(CallerLanguage)
                        .where(CallerLanguage.number_hash.in_(hashes), _languages_due(used_before))
                        .returning(CallerLanguage.number_hash)
                    )
                ).all()
                session.add(
                    audit_entry(
                        FORGET_LANGUAGES,
                        actor=actor,
                        target="caller_languages",
                        detail=f"{len(gone)} callers' language choices, {kept}",
                        now=now,
                    )
                )
            forgotten += len(gone)

    def _delete_files(self, recordings: Sequence[_Due]) -> None:
        """Blocking: the recordings' files and playable copies (missing ones are fine)."""
        for r in recordings:
            file = _inside(self.settings.data_dir, r.path)
            if file is None:
                log.warning(
                    "recording %d: its path %r leaves the data folder; file not deleted",
                    r.id,
                    r.path,
                )
            else:
                file.unlink(missing_ok=True)
            self.settings.recording_playback_copy(r.id).unlink(missing_ok=True)


async def recording_holds(
    session: AsyncSession, recording_ids: Collection[int], today: date
) -> dict[int, Hold]:
    """Why each of these recordings must be kept whatever its age (absent: nothing holds it)."""
    holds: dict[int, Hold] = {}
    if not recording_ids:
        return holds
    ids = list(recording_ids)
    waiting = await session.scalars(
        select(VoiceMessage.recording_id).where(
            VoiceMessage.recording_id.in_(ids), VoiceMessage.handled_at.is_(None)
        )
    )
    holds.update(dict.fromkeys(waiting, Hold.AWAITING_CALLBACK))
    statements = await session.execute(
        select(LossReport.statement_recording_id, LossReport.status, LossReport.lapses_on).where(
            LossReport.statement_recording_id.in_(ids), LossReport.status.in_(OPEN_STATUSES)
        )
    )
    for recording_id, status, lapses_on in statements:
        if recording_id is not None and report_open(status, lapses_on, today):
            holds[recording_id] = Hold.OPEN_CASE
    return holds


async def _due_recordings(
    session: AsyncSession,
    made_before: datetime,
    today: date,
    *,
    after: int,
    limit: int,
    lock: bool,
) -> tuple[list[_Due], int]:
    """One batch of recordings past their date with id above ``after``, less the held ones, and
    the last id looked at (0: none left). Held ones are passed over by the id cursor."""
    query = (
        select(Recording)
        .where(
            Recording.deleted_at.is_(None),
            Recording.created_at < made_before,
            Recording.id > after,
        )
        .order_by(Recording.id)
        .limit(limit)
    )
    if lock:
        query = query.with_for_update(skip_locked=True, key_share=True)
    rows = list(await session.scalars(query))
    if not rows:
        return [], 0
    holds = await recording_holds(session, [r.id for r in rows], today)
    due = [_Due(r.id, r.call_id, r.kind, r.path, r.created_at) for r in rows if r.id not in holds]
    return due, rows[-1].id


def _languages_due(used_before: datetime) -> ColumnElement[bool]:
    return CallerLanguage.used_at < used_before


def _due_paths(started_before: datetime) -> Select[int]:
    """Calls whose path is due, in id order (oldest first)."""
    return (
        select(Call.id)
        .where(Call.path_deleted_at.is_(None), Call.started_at < started_before)
        .order_by(Call.id)
    )


async def _claim(
    session: AsyncSession,
    table: type[Recording] | type[Call],
    mark: InstrumentedAttribute[datetime | None],
    ids: list[int],
    now: datetime,
) -> list[int]:
    """Set ``mark`` on the rows; only those no other prune marked first come back."""
    if not ids:
        return []
    result = await session.execute(
        update(table)
        .where(table.id.in_(ids), mark.is_(None))
        .values({mark: now})
        .returning(table.id)
        .execution_options(synchronize_session=False)
    )
    return list(result.scalars())


async def _step_counts(session: AsyncSession, call_ids: list[int]) -> dict[int, int]:
    if not call_ids:
        return {}
    rows = await session.execute(
        select(CallStep.call_id, func.count())
        .where(CallStep.call_id.in_(call_ids))
        .group_by(CallStep.call_id)
    )
    return {call_id: count for call_id, count in rows}


def _inside(data_dir: Path, relative: str) -> Path | None:
    """``data_dir/relative``, unless the stored path is absolute or climbs out with ``..``."""
    parts = PurePosixPath(relative)
    if parts.is_absolute() or ".." in parts.parts or not parts.parts:
        return None
    return data_dir / parts


def _today(now: datetime) -> date:
    """The local day a report's lapse is judged by."""
    return local(now).date()
