"""JSON-ready dicts of the store's views: one shape of a call for every reader.

``hotline calls --json`` prints calls in this shape and the console's API (``/api/calls``,
``/api/calls/{id}``) sends them in it; the API's detail only adds what belongs to the call
(recordings, voice messages, loss reports, when its path is deleted) around it. Times are ISO
8601 in UTC.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ivr.store.views import CallSummary, StepView

__all__ = ["call_json", "iso", "step_json"]


def iso(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


def step_json(step: StepView) -> dict[str, Any]:
    """One step of a call's path; ``key`` is ``***`` for an ID number or a password."""
    return {
        "at": iso(step.at),
        "node": step.node,
        "kind": step.kind,
        "key": step.key,
        "detail": step.detail,
    }


def call_json(call: CallSummary, *, with_path: bool = True) -> dict[str, Any]:
    """A call; ``with_path=False`` for calls read without their steps (a page of the call log),
    so that an absent path is not mistaken for an empty one."""
    data: dict[str, Any] = {
        "id": call.id,
        "hotline": call.hotline,
        "caller_id": call.caller_id,
        "uniqueid": call.uniqueid,
        "channel": call.channel,
        "started_at": iso(call.started_at),
        "ended_at": iso(call.ended_at),
        "language": call.language,
        "outcome": call.outcome,
        "last_node": call.last_node,
        "next_action": call.next_action,
        "id_masked": call.id_masked,
        "hangup_cause": call.hangup_cause,
        "hangup_cause_text": call.hangup_cause_text,
        "duration_s": call.duration,  # Asterisk's figure when known, else end minus start
        "path_deleted_at": iso(call.path_deleted_at),  # the retention policy deleted the steps
    }
    if with_path:
        data["path"] = [step_json(step) for step in call.path]
    return data
