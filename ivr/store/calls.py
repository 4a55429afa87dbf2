"""The call log: a row per call, its steps, recordings and voice messages; the supervisor's view.

A call's own start and end (and Asterisk's facts of it, a refused call) are each one plain function
a transaction on a connection (``Database.run_write``), in Core statements built once here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection, Row, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.domain.callers import Recall
from ivr.domain.outcomes import Outcome
from ivr.store.base import RecordsBase, clip
from ivr.store.callers import recall_language
from ivr.store.errors import NotFound
from ivr.store.models import Call, CallStep, Recording, RecordingAudio, VoiceMessage, table_of
from ivr.store.rollups import CallEnd, Tally, write_tally
from ivr.store.types import utcnow
from ivr.store.views import CallSummary, StartedCall, StepRecord, StepView

__all__ = ["CallLog"]


class CallLog(RecordsBase):
    async def start_call(
        self,
        hotline: str,
        caller_id: str,
        uniqueid: str,
        channel: str,
        language: str,
        started_at: datetime,
        *,
        linkedid: str | None = None,
        run_id: int | None = None,
        recall: Recall | None = None,
    ) -> StartedCall:
        """``run_id``: the process taking the call (``start_run``), so that its death ends it.
        ``recall``: the caller's remembered language is looked up (and counts as used) in the
        same transaction (a call's database work is counted in transactions: each costs round
        trips to the database)."""
        row = {
            "hotline": hotline,
            "caller_id": clip(caller_id, 40),
            "uniqueid": clip(uniqueid, 40),  # from the wire: a long one must not lose it
            "linkedid": clip(linkedid, 40),
            "channel": clip(channel, 80),
            "language": clip(language, 8),
            "started_at": started_at,
            "run_id": run_id,
        }

        def start(connection: Connection) -> StartedCall:
            remembered = None
            if recall is not None:
                remembered = recall_language(connection, recall, now=started_at)
            call_id = connection.execute(_INSERT_CALL, row).scalar_one()
            return StartedCall(call_id, remembered)

        return await self.db.run_write(start)

    async def finish_call(
        self,
        call_id: int,
        *,
        ended_at: datetime,
        outcome: str,
        last_node: str | None,
        next_action: str | None,
        language: str,
        id_hash: str | None,
        id_masked: str | None,
        steps: Sequence[StepRecord],
    ) -> None:
        """Complete the call row, write its buffered steps and count it in the statistics'
        rollups, in one transaction. A call closed already (the sweep took its process for dead)
        is written over, and counted as it ends now instead."""
        step_rows = [
            {
                "call_id": call_id,
                "seq": step.seq,
                "at": step.at,
                "node": clip(step.node, 64),
                "kind": clip(step.kind, 16),
                "key": clip(step.key, 32),
                "detail": clip(step.detail, 200),
            }
            for step in steps
        ]

        def finish(connection: Connection) -> None:
            row = connection.execute(_LOCKED_END, {"call_id": call_id}).one_or_none()
            if row is None:
                raise NotFound("call", call_id)
            end = CallEnd(
                hotline=row.hotline,
                started_at=row.started_at,
                ended_at=ended_at,
                outcome=clip(outcome, 20),
                last_node=clip(last_node, 64),
                next_action=clip(next_action, 32),
                duration_s=row.duration_s,
            )
            connection.execute(
                _END_CALL,
                {
                    "call_id": call_id,
                    "ended_at": end.ended_at,
                    "outcome": end.outcome,
                    "last_node": end.last_node,
                    "next_action": end.next_action,
                    "language": language,
                    "id_hash": id_hash,
                    "id_masked": clip(id_masked, 24),
                },
            )
            tally = Tally()
            tally.replace(_stored_end(row), end)
            write_tally(connection, tally)
            if step_rows:
                connection.execute(_INSERT_STEPS, step_rows)

        await self.db.run_write(finish)

    async def record_refused(
        self,
        *,
        hotline: str,
        caller_id: str,
        uniqueid: str,
        linkedid: str,
        channel: str,
        language: str,
        started_at: datetime,
        ended_at: datetime,
        cause: int | None,
        cause_text: str | None,
        duration_s: int | None,
    ) -> int:
        """A call the dialplan refused, the node being full: one finished row (never answered,
        no flow, no process), counted in the rollups in the same transaction."""
        end = CallEnd(
            hotline=clip(hotline, 8),
            started_at=started_at,
            ended_at=ended_at,
            outcome=Outcome.REFUSED.value,
            last_node=None,
            next_action=None,
            duration_s=duration_s,
        )
        row = {
            "hotline": end.hotline,
            "caller_id": clip(caller_id, 40),
            "uniqueid": clip(uniqueid, 40),
            "linkedid": clip(linkedid, 40),
            "channel": clip(channel, 80),
            "language": clip(language, 8),
            "started_at": started_at,
            "ended_at": ended_at,
            "outcome": end.outcome,
            "hangup_cause": cause,
            "hangup_cause_text": clip(cause_text, 64),
            "duration_s": duration_s,
            "billsec": 0,
        }

        def record(connection: Connection) -> int:
            call_id: int = connection.execute(_INSERT_CALL, row).scalar_one()
            tally = Tally()
            tally.add(end)
            write_tally(connection, tally)
            return call_id

        return await self.db.run_write(record)

    async def complete_hangup(
        self,
        uniqueid: str,
        *,
        cause: int | None,
        cause_text: str | None,
        duration_s: int | None,
        billsec: int | None,
    ) -> bool:
        """Add Asterisk's hang-up facts to the latest call with ``uniqueid``; False if none.
        Its duration is the call's handling time: an ended call's rollup follows it."""
        facts = {
            "hangup_cause": cause,
            "hangup_cause_text": clip(cause_text, 64),
            "duration_s": duration_s,
            "billsec": billsec,
        }

        def complete(connection: Connection) -> bool:
            row = connection.execute(
                _LOCKED_LATEST_END, {"uniqueid": clip(uniqueid, 40)}
            ).one_or_none()
            if row is None:
                return False
            connection.execute(_HANGUP_FACTS, {"call_id": row.id, **facts})
            before = _stored_end(row)
            if before is not None:
                tally = Tally()
                tally.replace(before, replace(before, duration_s=duration_s))
                write_tally(connection, tally)
            return True

        return await self.db.run_write(complete)

    async def add_recording(
        self,
        call_id: int,
        kind: str,
        path: str,
        duration_s: float,
        *,
        audio: bytes | None = None,
        now: datetime | None = None,
    ) -> int:
        """``path`` is relative to the data folder; ``audio``, the file's bytes, kept with the
        row (one transaction) when other machines must play it."""
        row = {
            "call_id": call_id,
            "kind": kind,
            "path": path,
            "duration_s": duration_s,
            "created_at": now or utcnow(),
        }

        def add(connection: Connection) -> int:
            recording_id: int = connection.execute(_INSERT_RECORDING, row).scalar_one()
            if audio is not None:
                connection.execute(_INSERT_AUDIO, {"recording_id": recording_id, "audio": audio})
            return recording_id

        return await self.db.run_write(add)

    async def add_voice_message(
        self,
        call_id: int,
        recording_id: int,
        callback_number: str,
        *,
        now: datetime | None = None,
    ) -> int:
        row = {
            "call_id": call_id,
            "recording_id": recording_id,
            "callback_number": clip(callback_number, 32),
            "created_at": now or utcnow(),
        }

        def add(connection: Connection) -> int:
            message_id: int = connection.execute(_INSERT_MESSAGE, row).scalar_one()
            return message_id

        return await self.db.run_write(add)

    async def set_callback_number(self, voice_message_id: int, callback_number: str) -> None:
        """The number the caller keyed to be called back on (replaces the caller ID default)."""
        values = {"message_id": voice_message_id, "callback_number": clip(callback_number, 32)}

        def set_number(connection: Connection) -> None:
            if connection.execute(_SET_CALLBACK, values).one_or_none() is None:
                raise NotFound("voice message", voice_message_id)

        await self.db.run_write(set_number)

    async def recent_calls(
        self, *, limit: int = 20, hotline: str | None = None
    ) -> list[CallSummary]:
        """The latest calls, newest first, each with its path through the flow in order."""
        query = select(Call).order_by(Call.started_at.desc(), Call.id.desc()).limit(limit)
        if hotline is not None:
            query = query.where(Call.hotline == hotline)
        async with self.db.read() as session:
            calls = list(await session.scalars(query))
            paths = await _paths(session, [call.id for call in calls])
        return [call_summary(call, paths.get(call.id, [])) for call in calls]

    async def call_detail(self, call_id: int) -> CallSummary | None:
        async with self.db.read() as session:
            call = await session.get(Call, call_id)
            if call is None:
                return None
            paths = await _paths(session, [call_id])
        return call_summary(call, paths.get(call_id, []))


_CALLS = table_of(Call)
_INSERT_CALL = insert(_CALLS).returning(_CALLS.c.id)
_INSERT_STEPS = insert(table_of(CallStep))
# What a call's end is counted by in the rollups, as stored. Read with the row locked against other
# writers until the transaction ends (on PostgreSQL; SQLite's writers take turns anyway).
_END_COLUMNS = select(
    _CALLS.c.id,
    _CALLS.c.hotline,
    _CALLS.c.started_at,
    _CALLS.c.ended_at,
    _CALLS.c.outcome,
    _CALLS.c.last_node,
    _CALLS.c.next_action,
    _CALLS.c.duration_s,
)
_LOCKED_END = _END_COLUMNS.where(_CALLS.c.id == bindparam("call_id")).with_for_update(
    key_share=True
)
_LATEST = (
    select(func.max(_CALLS.c.id))
    .where(_CALLS.c.uniqueid == bindparam("uniqueid"))
    .scalar_subquery()
)
_LOCKED_LATEST_END = _END_COLUMNS.where(_CALLS.c.id == _LATEST).with_for_update(key_share=True)
_END_CALL = (
    update(_CALLS)
    .where(_CALLS.c.id == bindparam("call_id"))
    .values(
        {
            name: bindparam(name)
            for name in (
                "ended_at",
                "outcome",
                "last_node",
                "next_action",
                "language",
                "id_hash",
                "id_masked",
            )
        }
    )
)
_RECORDINGS = table_of(Recording)
_INSERT_RECORDING = insert(_RECORDINGS).returning(_RECORDINGS.c.id)
_INSERT_AUDIO = insert(table_of(RecordingAudio))
_MESSAGES = table_of(VoiceMessage)
_INSERT_MESSAGE = insert(_MESSAGES).returning(_MESSAGES.c.id)
_SET_CALLBACK = (
    update(_MESSAGES)
    .where(_MESSAGES.c.id == bindparam("message_id"))
    .values(callback_number=bindparam("callback_number"))
    .returning(_MESSAGES.c.id)
)
_HANGUP_FACTS = (
    update(_CALLS)
    .where(_CALLS.c.id == bindparam("call_id"))
    .values(
        {
            name: bindparam(name)
            for name in ("hangup_cause", "hangup_cause_text", "duration_s", "billsec")
        }
    )
)


_EndRow = Row[int, str, datetime, datetime | None, str | None, str | None, str | None, int | None]


def _stored_end(row: _EndRow) -> CallEnd | None:
    """The end the rollups count the call by now (None while it is in progress)."""
    if row.ended_at is None:
        return None
    return CallEnd(
        hotline=row.hotline,
        started_at=row.started_at,
        ended_at=row.ended_at,
        outcome=row.outcome,
        last_node=row.last_node,
        next_action=row.next_action,
        duration_s=row.duration_s,
    )


async def _paths(session: AsyncSession, call_ids: list[int]) -> dict[int, list[StepView]]:
    paths: dict[int, list[StepView]] = defaultdict(list)
    if not call_ids:
        return paths
    steps = await session.scalars(
        select(CallStep)
        .where(CallStep.call_id.in_(call_ids))
        .order_by(CallStep.call_id, CallStep.seq)
    )
    for step in steps:
        paths[step.call_id].append(
            StepView(node=step.node, key=step.key, kind=step.kind, at=step.at, detail=step.detail)
        )
    return paths


def call_summary(call: Call, path: list[StepView] | None = None) -> CallSummary:
    return CallSummary(
        id=call.id,
        hotline=call.hotline,
        caller_id=call.caller_id,
        uniqueid=call.uniqueid,
        channel=call.channel,
        started_at=call.started_at,
        ended_at=call.ended_at,
        language=call.language,
        outcome=call.outcome,
        last_node=call.last_node,
        next_action=call.next_action,
        id_masked=call.id_masked,
        hangup_cause=call.hangup_cause,
        hangup_cause_text=call.hangup_cause_text,
        duration_s=call.duration_s,
        billsec=call.billsec,
        path=path or [],
        path_deleted_at=call.path_deleted_at,
    )
