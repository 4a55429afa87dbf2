"""Persistence: SQLAlchemy 2 async models, the records API, Alembic migrations, demo seed.

Typical use::

    await upgrade_database(url)          # `hotline db upgrade`; open_database never migrates
    records = await open_records(url)    # Records over Database(open_database(url))
    ...
    await records.close()
"""

from ivr.store.database import Database, open_database, upgrade_database
from ivr.store.errors import (
    CardNotReportable,
    NotFound,
    ReportNotLiftable,
    ReportStateError,
    StoreError,
)
from ivr.store.records import Records, open_records
from ivr.store.views import (
    CallSummary,
    CardView,
    CitizenView,
    ContributionView,
    MedicalView,
    ReportEventView,
    ReportView,
    StepRecord,
    StepView,
)

__all__ = [
    "CallSummary",
    "CardNotReportable",
    "CardView",
    "CitizenView",
    "ContributionView",
    "Database",
    "MedicalView",
    "NotFound",
    "Records",
    "ReportEventView",
    "ReportNotLiftable",
    "ReportStateError",
    "ReportView",
    "StepRecord",
    "StepView",
    "StoreError",
    "open_database",
    "open_records",
    "upgrade_database",
]
