"""The records API the call flows and the supervisor console use: one short transaction per call.

Build it from a ``Database``::

    db = await open_database(settings.database_url)
    records = Records(db)
    ...
    await records.close()   # or db.close()

No ORM object leaves the store: every method takes and returns plain values (``ivr.store.views``).
"""

from __future__ import annotations

from ivr.store.callers import CallerLanguages
from ivr.store.calls import CallLog
from ivr.store.citizens import CitizenRecords
from ivr.store.database import Database, open_database
from ivr.store.dialplan_messages import DialplanMessageLog
from ivr.store.reports import CardReports
from ivr.store.runs import RunRecords
from ivr.store.views import (
    CallSummary,
    CardView,
    CitizenView,
    ContributionView,
    MedicalView,
    ReportEventView,
    ReportView,
    StartedCall,
    StepRecord,
    StepView,
)

__all__ = [
    "CallSummary",
    "CardView",
    "CitizenView",
    "ContributionView",
    "MedicalView",
    "Records",
    "ReportEventView",
    "ReportView",
    "StartedCall",
    "StepRecord",
    "StepView",
    "open_records",
]


class Records(
    CallLog, DialplanMessageLog, CitizenRecords, CardReports, RunRecords, CallerLanguages
):
    """Calls and their steps, citizens and passwords, balances, cards and loss reports, the
    hotline processes (runs) that take the calls, and callers' language choices."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)


async def open_records(url: str) -> Records:
    """``Records`` over a new connection pool to ``url`` (the schema must be upgraded already)."""
    return Records(await open_database(url))
