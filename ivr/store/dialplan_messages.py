"""Voice messages the dialplan records (``voicemail`` in ``extensions.conf.j2``), into the records:
attached to their call, or, when no process of the hotline took the call, a call of their own.

Each file is one voice message, however many sweeps store it at once (two nodes sharing the
database, or two overlapping on one): the recording is inserted against the unique index on the
voice messages' paths (``ON CONFLICT DO NOTHING``), and a sweep whose insert finds the message
there already rolls back all it wrote for it (the call made for it, its rollups), so a message
lands once and whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Row, func, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.domain.outcomes import Outcome
from ivr.store.base import RecordsBase, clip
from ivr.store.models import (
    VOICE_MESSAGE,
    VOICE_MESSAGE_ROW,
    Call,
    Recording,
    RecordingAudio,
    VoiceMessage,
)
from ivr.store.rollups import CallEnd, Tally, save_tally
from ivr.store.types import utcnow

__all__ = ["DialplanMessageLog"]


class _Taken(Exception):
    """Another sweep stored the message first: the transaction it leaves writes nothing."""


class DialplanMessageLog(RecordsBase):
    async def voice_message_paths(self, paths: Sequence[str]) -> set[str]:
        """Those of ``paths`` (relative to the data folder) stored as voice messages already."""
        async with self.db.read() as session:
            return set(
                await session.scalars(
                    select(Recording.path).where(
                        Recording.path.in_(paths), Recording.kind == VOICE_MESSAGE
                    )
                )
            )

    async def attach_dialplan_message(
        self,
        uniqueid: str,
        path: str,
        duration_s: float,
        *,
        audio: bytes | None = None,
        now: datetime | None = None,
    ) -> tuple[int, bool] | None:
        """A voice message the dialplan recorded after the flow (no agent could take the call):
        a recording of the latest call with ``uniqueid`` and a call-back task on its caller ID,
        in one transaction. The recording's id and whether it is new (False: ``path`` was
        stored already, by this sweep or another); None when no call has that uniqueid (yet)."""
        created = now or utcnow()
        try:
            async with self.db.write() as session:
                stored = await _message_at(session, path)
                if stored is not None:
                    return stored, False
                call = await _latest_call(session, uniqueid)
                if call is None:
                    return None
                return await _attach_message(
                    session, call.id, call.caller_id, path, duration_s, audio, created
                )
        except _Taken:
            return await self._stored_message(path), False

    async def record_unattended_message(
        self,
        *,
        hotline: str,
        uniqueid: str,
        language: str,
        left_at: datetime,
        path: str,
        duration_s: float,
        audio: bytes | None = None,
    ) -> tuple[int, bool]:
        """A voice message the dialplan recorded for a call no process of the hotline took (none
        ran, or none answered the FastAGI connection), so no call record: a finished call of its
        own (outcome ``voice_message``, caller unknown, from the message's start to ``left_at``,
        counted in the rollups), its recording and a call-back task, in one transaction. A path
        stored already is left as it is (nothing written: no call either); a call with
        ``uniqueid`` found by then gets the message instead (one record per call). The
        recording's id and whether it is new."""
        try:
            return await self._record_unattended(
                hotline, uniqueid, language, left_at, path, duration_s, audio
            )
        except _Taken:
            return await self._stored_message(path), False

    async def _record_unattended(
        self,
        hotline: str,
        uniqueid: str,
        language: str,
        left_at: datetime,
        path: str,
        duration_s: float,
        audio: bytes | None,
    ) -> tuple[int, bool]:
        async with self.db.write() as session:
            stored = await _message_at(session, path)
            if stored is not None:
                return stored, False
            call = await _latest_call(session, uniqueid)
            if call is not None:
                return await _attach_message(
                    session, call.id, call.caller_id, path, duration_s, audio, left_at
                )
            end = CallEnd(
                hotline=clip(hotline, 8),
                started_at=left_at - timedelta(seconds=duration_s),  # the call began before
                ended_at=left_at,
                outcome=Outcome.VOICE_MESSAGE.value,
                last_node=None,
                next_action=None,
                duration_s=None,  # unknown: nothing saw the call start
            )
            call_id = await session.scalar(
                insert(Call)
                .values(
                    hotline=end.hotline,
                    caller_id="",
                    uniqueid=clip(uniqueid, 40),
                    channel="",
                    language=clip(language, 8),
                    started_at=end.started_at,
                    ended_at=end.ended_at,
                    outcome=end.outcome,
                )
                .returning(Call.id)
            )
            assert isinstance(call_id, int)
            tally = Tally()
            tally.add(end)
            await save_tally(session, tally)
            return await _attach_message(session, call_id, "", path, duration_s, audio, left_at)

    async def _stored_message(self, path: str) -> int:
        """The id of the voice message another sweep stored at ``path`` (rows stay: retention
        only marks them deleted)."""
        async with self.db.read() as session:
            stored = await _message_at(session, path)
        assert stored is not None
        return stored


async def _message_at(session: AsyncSession, path: str) -> int | None:
    """The recording's id of the voice message stored at ``path``, if any."""
    return await session.scalar(
        select(Recording.id).where(Recording.path == path, Recording.kind == VOICE_MESSAGE)
    )


async def _latest_call(session: AsyncSession, uniqueid: str) -> Row[int, str] | None:
    """(id, caller_id) of the latest call with ``uniqueid``."""
    latest = select(func.max(Call.id)).where(Call.uniqueid == clip(uniqueid, 40)).scalar_subquery()
    result = await session.execute(select(Call.id, Call.caller_id).where(Call.id == latest))
    return result.one_or_none()


async def _attach_message(
    session: AsyncSession,
    call_id: int,
    caller_id: str,
    path: str,
    duration_s: float,
    audio: bytes | None,
    created: datetime,
) -> tuple[int, bool]:
    """A voice message's recording and its call-back task (on the caller ID) for ``call_id``;
    raises ``_Taken`` (the transaction must roll back) when a voice message is at ``path``."""
    connection = await session.connection()
    new_recording = sqlite.insert if connection.dialect.name == "sqlite" else postgresql.insert
    recording_id = await session.scalar(
        new_recording(Recording)
        .values(
            call_id=call_id,
            kind=VOICE_MESSAGE,
            path=path,
            duration_s=duration_s,
            created_at=created,
        )
        .on_conflict_do_nothing(
            index_elements=[Recording.path], index_where=text(VOICE_MESSAGE_ROW)
        )
        .returning(Recording.id)
    )
    if recording_id is None:
        raise _Taken(path)
    assert isinstance(recording_id, int)
    if audio is not None:
        await session.execute(insert(RecordingAudio).values(recording_id=recording_id, audio=audio))
    await session.execute(
        insert(VoiceMessage).values(
            call_id=call_id,
            recording_id=recording_id,
            callback_number=clip(caller_id, 32),
            created_at=created,
        )
    )
    return recording_id, True
