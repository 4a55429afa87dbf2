"""Call-back tasks: the steps each status allows, the day the promised call-back is due (in
Chinese working days, Beijing time) and the number as the queue shows it."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest

from ivr.domain.callbacks import (
    CALLBACK_WORKING_DAYS,
    TaskRefused,
    TaskStatus,
    TaskStep,
    callback_due,
    callback_due_day,
    check_task_step,
    mask_phone,
)
from ivr.domain.clock import BEIJING
from ivr.domain.workdays import shipped_calendar

SHIPPED = shipped_calendar()

# Written out by hand, not read from the module's table.
ALLOWED = {
    (TaskStep.TAKE, TaskStatus.NEW),
    (TaskStep.CALLED_BACK, TaskStatus.TAKEN),
    (TaskStep.CALLED_BACK, TaskStatus.CALLED_BACK),  # no answer: tried again
    (TaskStep.CLOSE, TaskStatus.TAKEN),
    (TaskStep.CLOSE, TaskStatus.CALLED_BACK),
}


@pytest.mark.parametrize(("step", "status"), list(itertools.product(TaskStep, TaskStatus)))
def test_each_step_from_each_status(step: TaskStep, status: TaskStatus) -> None:
    if (step, status) in ALLOWED:
        check_task_step(step, status)
        return
    with pytest.raises(TaskRefused) as refused:
        check_task_step(step, status)
    assert (refused.value.step, refused.value.status) == (step, status)
    assert str(refused.value) == f"cannot {step.value} a task that is {status.value}"


def test_the_refusal_reads_as_the_console_shows_it() -> None:
    with pytest.raises(TaskRefused) as refused:
        check_task_step(TaskStep.CALLED_BACK, TaskStatus.CLOSED)
    assert str(refused.value) == "cannot called-back a task that is closed"


def test_a_message_left_on_friday_is_due_by_the_end_of_wednesday() -> None:
    assert CALLBACK_WORKING_DAYS == 3
    left = datetime(2026, 3, 6, 9, 0, tzinfo=BEIJING)  # Friday
    assert callback_due_day(left, SHIPPED) == date(2026, 3, 11)
    assert callback_due(left, SHIPPED) == datetime(2026, 3, 12, 0, 0, tzinfo=BEIJING)


def test_the_day_a_message_was_left_is_its_beijing_day() -> None:
    # 17:30 UTC on Thursday is 01:30 on Friday in Beijing: counted from Friday.
    left = datetime(2026, 3, 5, 17, 30, tzinfo=UTC)
    assert callback_due_day(left, SHIPPED) == date(2026, 3, 11)
    due = callback_due(left, SHIPPED)
    assert due == datetime(2026, 3, 11, 16, 0, tzinfo=UTC)


def test_the_promise_skips_a_holiday() -> None:
    # 30 September 2026: 1-7 October off, Saturday 10 October worked.
    left = datetime(2026, 9, 30, 15, 0, tzinfo=BEIJING)
    assert callback_due_day(left, SHIPPED) == date(2026, 10, 10)


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        ("13812345678", "138****5678"),
        ("02112345678", "021****5678"),
        ("12345678", "123*5678"),  # 8 digits: the first 3 and last 4
        ("1234567", "*****67"),  # shorter: the last 2
        ("12", "12"),
        ("1", "1"),
        ("", ""),
    ],
)
def test_a_call_back_number_as_the_queue_shows_it(number: str, shown: str) -> None:
    assert mask_phone(number) == shown
