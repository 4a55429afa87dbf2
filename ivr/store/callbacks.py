"""The call-back work queue: voice messages as tasks (``ivr.domain.callbacks``).

Each step is one conditional UPDATE on the status it starts from, so two people taking the same
task at once cannot both have it: the second is refused (``TaskRefused``) with its status now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update

from ivr.domain.callbacks import CallbackResult, TaskRefused, TaskStatus, TaskStep, check_task_step
from ivr.store.base import RecordsBase, clip
from ivr.store.errors import NotFound
from ivr.store.models import VoiceMessage

__all__ = ["CallbackTask", "CallbackTasks"]

NOTE_LEN = 200


@dataclass(frozen=True)
class CallbackTask:
    id: int
    call_id: int
    recording_id: int
    callback_number: str
    left_at: datetime
    status: TaskStatus
    taken_by: str | None
    taken_at: datetime | None
    called_back_at: datetime | None
    result: CallbackResult | None
    note: str
    closed_at: datetime | None


def _task(row: VoiceMessage) -> CallbackTask:
    return CallbackTask(
        id=row.id,
        call_id=row.call_id,
        recording_id=row.recording_id,
        callback_number=row.callback_number,
        left_at=row.created_at,
        status=TaskStatus(row.status),
        taken_by=row.taken_by,
        taken_at=row.taken_at,
        called_back_at=row.called_back_at,
        result=None if row.result is None else CallbackResult(row.result),
        note=row.note,
        closed_at=row.handled_at,
    )


class CallbackTasks(RecordsBase):
    async def tasks(self, *, closed_since: datetime) -> list[CallbackTask]:
        """Open tasks and those closed since ``closed_since``; oldest first."""
        async with self.db.read() as session:
            rows = await session.scalars(
                select(VoiceMessage)
                .where(
                    or_(
                        VoiceMessage.status != TaskStatus.CLOSED,
                        VoiceMessage.handled_at >= closed_since,
                    )
                )
                .order_by(VoiceMessage.created_at, VoiceMessage.id)
            )
            return [_task(row) for row in rows]

    async def task(self, task_id: int) -> CallbackTask | None:
        async with self.db.read() as session:
            row = await session.get(VoiceMessage, task_id)
        return None if row is None else _task(row)

    async def open_count(self) -> int:
        async with self.db.read() as session:
            found = await session.scalar(
                select(func.count())
                .select_from(VoiceMessage)
                .where(VoiceMessage.status != TaskStatus.CLOSED)
            )
        return int(found or 0)

    async def take(self, task_id: int, *, by: str, now: datetime) -> CallbackTask:
        return await self._step(
            task_id, TaskStep.TAKE, {"status": TaskStatus.TAKEN, "taken_by": by, "taken_at": now}
        )

    async def called_back(
        self, task_id: int, *, by: str, result: CallbackResult, note: str, now: datetime
    ) -> CallbackTask:
        values = {
            "status": TaskStatus.CALLED_BACK,
            "result": result.value,
            "note": clip(note, NOTE_LEN),
            "called_back_at": now,
        }
        return await self._step(task_id, TaskStep.CALLED_BACK, values, by=by)

    async def close_task(self, task_id: int, *, by: str, now: datetime) -> CallbackTask:
        values = {"status": TaskStatus.CLOSED, "handled_at": now}
        return await self._step(task_id, TaskStep.CLOSE, values, by=by)

    async def _step(
        self, task_id: int, step: TaskStep, values: dict[str, Any], *, by: str | None = None
    ) -> CallbackTask:
        """The step, if the task is (still) in a status it starts from and, past taking, held
        by ``by``."""
        async with self.db.write() as session:
            row = await session.get(VoiceMessage, task_id)
            if row is None:
                raise NotFound("voice message", task_id)
            status = TaskStatus(row.status)
            check_task_step(step, status)
            if by is not None and row.taken_by != by:
                raise TaskRefused(step, status)
            changed = await session.execute(
                update(VoiceMessage)
                .where(VoiceMessage.id == task_id, VoiceMessage.status == status.value)
                .values(**values)
                .returning(VoiceMessage.id)
                .execution_options(synchronize_session=False)
            )
            if changed.first() is None:
                raise TaskRefused(step, status)
            await session.refresh(row)
            return _task(row)
