"""Voice messages the dialplan records (``voicemail`` in ``extensions.conf.j2``), into the records:
attached to their call, or, when no process of the hotline took the call, a call of their own."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Row, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.domain.outcomes import Outcome
from ivr.store.base import RecordsBase, clip
from ivr.store.models import Call, Recording, RecordingAudio, VoiceMessage
from ivr.store.rollups import CallEnd, Tally, save_tally
from ivr.store.types import utcnow

__all__ = ["DialplanMessageLog"]


class DialplanMessageLog(RecordsBase):
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
        attached already); None when no call has that uniqueid (yet)."""
        created = now or utcnow()
        async with self.db.write() as session:
            call = await _latest_call(session, uniqueid)
            if call is None:
                return None
            return await _attach_message(
                session, call.id, call.caller_id, path, duration_s, audio, created
            )

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
        attached already is left as it is; a call with ``uniqueid`` found by then gets the
        message instead (one record per call). The recording's id and whether it is new."""
        async with self.db.write() as session:
            attached = await session.scalar(select(Recording.id).where(Recording.path == path))
            if attached is not None:
                return attached, False
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
    (the recording's id, False) when ``path`` is attached to that call already."""
    attached = await session.scalar(
        select(Recording.id).where(Recording.call_id == call_id, Recording.path == path)
    )
    if attached is not None:
        return attached, False
    recording_id = await session.scalar(
        insert(Recording)
        .values(
            call_id=call_id,
            kind="voice_message",
            path=path,
            duration_s=duration_s,
            created_at=created,
        )
        .returning(Recording.id)
    )
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
