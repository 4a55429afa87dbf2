"""When the retention policy deletes what the console shows: recordings, statements, call paths
(the rule: ``ivr.domain.retention``; the pages print it with ``templates/retention.html``)."""

from __future__ import annotations

from datetime import datetime

from ivr.domain.retention import Fate, RetentionPolicy
from ivr.store.console import CaseView, RecordingView
from ivr.store.views import CallSummary

__all__ = ["path_fate", "recording_fate", "statement_fate"]


def recording_fate(policy: RetentionPolicy, recording: RecordingView, now: datetime) -> Fate:
    return policy.recording_fate(
        recording.created_at, held=recording.hold, deleted_at=recording.deleted_at, now=now
    )


def statement_fate(policy: RetentionPolicy, case: CaseView, now: datetime) -> Fate | None:
    """The fate of the case's recorded statement; None for a case without one."""
    return None if case.statement is None else recording_fate(policy, case.statement, now)


def path_fate(policy: RetentionPolicy, call: CallSummary, now: datetime) -> Fate:
    return policy.path_fate(call.started_at, deleted_at=call.path_deleted_at, now=now)
