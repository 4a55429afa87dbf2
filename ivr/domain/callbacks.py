"""A voice message is a call-back task: new, taken by someone, called back with a result, closed.

The caller is promised a call-back "within three working days" (the ``message_thanks`` prompt);
``CALLBACK_WORKING_DAYS`` is that promise, and a test holds the prompt's words to it. A task is
due at the end (24:00, Beijing) of that many Chinese working days after the day it was left.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Final

from ivr.domain.clock import BEIJING, local
from ivr.domain.workdays import WorkCalendar

__all__ = [
    "CALLBACK_WORKING_DAYS",
    "CallbackResult",
    "TaskRefused",
    "TaskStatus",
    "TaskStep",
    "callback_due",
    "callback_due_day",
    "check_task_step",
    "mask_phone",
]

CALLBACK_WORKING_DAYS: Final = 3


class TaskStatus(StrEnum):
    NEW = "new"
    TAKEN = "taken"
    CALLED_BACK = "called_back"
    CLOSED = "closed"


class CallbackResult(StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"


class TaskStep(StrEnum):
    TAKE = "take"
    CALLED_BACK = "called-back"
    CLOSE = "close"


# Which status each step starts from. A call-back not answered may be tried again (its result
# is replaced); a task is closed once it was called back, or at once if nothing can be done.
_FROM: Final[dict[TaskStep, frozenset[TaskStatus]]] = {
    TaskStep.TAKE: frozenset({TaskStatus.NEW}),
    TaskStep.CALLED_BACK: frozenset({TaskStatus.TAKEN, TaskStatus.CALLED_BACK}),
    TaskStep.CLOSE: frozenset({TaskStatus.TAKEN, TaskStatus.CALLED_BACK}),
}


class TaskRefused(ValueError):
    """The step is not possible from the task's status (someone else was quicker)."""

    def __init__(self, step: TaskStep, status: TaskStatus) -> None:
        super().__init__(f"cannot {step.value} a task that is {status.value}")
        self.step = step
        self.status = status


def step_allowed(step: TaskStep, status: TaskStatus) -> bool:
    return status in _FROM[step]


def check_task_step(step: TaskStep, status: TaskStatus) -> None:
    if not step_allowed(step, status):
        raise TaskRefused(step, status)


def callback_due_day(left_at: datetime, calendar: WorkCalendar) -> date:
    """The last day of the promise: the ``CALLBACK_WORKING_DAYS``-th working day after the
    (Beijing) day the message was left."""
    return calendar.add_working_days(local(left_at).date(), CALLBACK_WORKING_DAYS)


def callback_due(left_at: datetime, calendar: WorkCalendar) -> datetime:
    """When the promised call-back is overdue: the end (24:00, Beijing) of its last day."""
    last = callback_due_day(left_at, calendar)
    return datetime.combine(last, time(), BEIJING) + timedelta(days=1)


def mask_phone(number: str) -> str:
    """A call-back number as the queue shows it: the first 3 and last 4 digits
    (``138****5678``); a short one keeps its last 2."""
    if len(number) >= 8:
        return number[:3] + "*" * (len(number) - 7) + number[-4:]
    return "*" * max(0, len(number) - 2) + number[-2:]
