"""The call-back work queue (``/callbacks``, staff and supervisors): every voice message a task.

A task is taken by one person, called back with a result (tried again if no one answered), then
closed; each step, refused ones included, is audited. The queue shows the call-back number
masked; whoever took the task sees it whole, to dial it. A task past its due time (the promised
call-back, ``ivr.domain.callbacks``) and not closed is highlighted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from ivr.domain.callbacks import (
    CALLBACK_WORKING_DAYS,
    CallbackResult,
    TaskRefused,
    TaskStatus,
    callback_due,
    callback_due_day,
    mask_phone,
)
from ivr.domain.idnumber import mask_ids_in_text
from ivr.store.callbacks import CallbackTask
from ivr.store.errors import NotFound
from ivr.store.types import utcnow
from ivr.web.plumbing.auditing import audit
from ivr.web.plumbing.errors import Refusal
from ivr.web.plumbing.i18n import Text, _l
from ivr.web.plumbing.labels import label
from ivr.web.plumbing.roles import CASEWORK
from ivr.web.plumbing.routing import Routes, see_other
from ivr.web.state import console, session_of

__all__ = ["CLOSED_SHOWN", "QueueCounts", "queue_counts", "routes"]

CLOSED_SHOWN = timedelta(days=7)
STEPS = ("take", "called-back", "close")
DONE: dict[str, Text] = {
    "take": _l("Task %(id)s is yours: call the number back."),
    "called-back": _l("Call-back recorded for task %(id)s."),
    "close": _l("Task %(id)s closed."),
}

routes = Routes()


@dataclass(frozen=True)
class TaskRow:
    """A task as the queue shows it to one person."""

    task: CallbackTask
    due_day: date  # the call-back is due by the end of this (Beijing) day
    overdue: bool
    number: str  # whole for the one who took it, masked for the others
    mine: bool


def _rows(request: web.Request, tasks: list[CallbackTask], now: datetime) -> list[TaskRow]:
    calendar = console(request).calendar
    session = session_of(request)
    me = session.user.username if session else ""
    rows = []
    for task in tasks:
        mine = task.taken_by == me and task.status is not TaskStatus.CLOSED
        rows.append(
            TaskRow(
                task=task,
                due_day=callback_due_day(task.left_at, calendar),
                overdue=task.status is not TaskStatus.CLOSED
                and now >= callback_due(task.left_at, calendar),
                number=task.callback_number if mine else mask_phone(task.callback_number),
                mine=mine,
            )
        )
    return rows


@dataclass(frozen=True)
class QueueCounts:
    open: int
    overdue: int


async def queue_counts(request: web.Request) -> QueueCounts:
    """The tasks not closed, and how many of them are overdue (the live page shows both)."""
    now = utcnow()
    tasks = await console(request).callbacks.tasks(closed_since=now)
    rows = _rows(request, [t for t in tasks if t.status is not TaskStatus.CLOSED], now)
    return QueueCounts(len(rows), sum(1 for r in rows if r.overdue))


async def _page(
    request: web.Request, *, error: Text | None = None, done: Text | None = None, status: int = 200
) -> web.Response:
    now = utcnow()
    tasks = await console(request).callbacks.tasks(closed_since=now - CLOSED_SHOWN)
    rows = _rows(request, tasks, now)
    context: dict[str, Any] = {
        "open": [r for r in rows if r.task.status is not TaskStatus.CLOSED],
        "closed": [r for r in rows if r.task.status is TaskStatus.CLOSED],
        "overdue": sum(1 for r in rows if r.overdue),
        "working_days": CALLBACK_WORKING_DAYS,
        "results": list(CallbackResult),
        "error": error,
        "done": done,
    }
    return aiohttp_jinja2.render_template("callbacks.html", request, context, status=status)


@routes.get("/callbacks", roles=CASEWORK, menu=_l("Call-backs"))
async def callbacks_page(request: web.Request) -> web.StreamResponse:
    step, task_id = request.query.get("done", ""), request.query.get("task", "")
    done = DONE[step] if step in DONE and task_id.isdigit() else None
    return await _page(request, done=None if done is None else _l(done.msgid, id=task_id))


@routes.post(r"/callbacks/{task_id:\d{1,12}}/{step}", roles=CASEWORK)
async def callback_step(request: web.Request) -> web.StreamResponse:
    task_id, step = int(request.match_info["task_id"]), request.match_info["step"]
    if step not in STEPS:
        raise Refusal(404, _l("There is no task step %(step)s.", step=repr(step)))
    session = session_of(request)
    assert session is not None  # the route's roles
    me, now, tasks = session.user.username, utcnow(), console(request).callbacks
    form = await request.post()
    target = f"task:{task_id}"
    try:
        match step:
            case "take":
                task = await tasks.take(task_id, by=me, now=now)
                detail = f"call {task.call_id}, number {mask_phone(task.callback_number)}"
            case "called-back":
                try:
                    result = CallbackResult(str(form.get("result", "")))
                except ValueError:
                    raise Refusal(400, _l("Choose the result of the call-back.")) from None
                note = mask_ids_in_text(str(form.get("note", "")).strip())
                task = await tasks.called_back(task_id, by=me, result=result, note=note, now=now)
                detail = f"result {result.value}" + (f": {task.note}" if task.note else "")
            case _:
                task = await tasks.close_task(task_id, by=me, now=now)
                detail = f"result {task.result.value if task.result else '-'}"
    except NotFound:
        raise Refusal(404, _l("There is no call-back task %(id)s.", id=task_id)) from None
    except TaskRefused as refused:
        await audit(request, f"callback_{step}", target=target, detail=f"refused: {refused}")
        current = await tasks.task(task_id)
        why = _l(
            "Task %(id)s is %(status)s and taken by %(who)s: you cannot do this now.",
            id=task_id,
            status=label("task", refused.status),
            who=(current.taken_by if current else None) or "-",
        )
        return await _page(request, error=why, status=409)
    await audit(request, f"callback_{step}", target=target, detail=detail)
    return see_other(f"/callbacks?done={step}&task={task_id}#task-{task_id}")
