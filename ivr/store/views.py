"""Plain frozen values the store hands out (and takes in): no ORM object leaves ``ivr.store``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from ivr.domain.cards import CardStatus, ReportStatus

__all__ = [
    "CallSummary",
    "CardView",
    "CitizenView",
    "ContributionView",
    "MedicalView",
    "ReportEventView",
    "ReportView",
    "StartedCall",
    "StepRecord",
    "StepView",
]

SENSITIVE_KEY = "***"  # what a call step keeps of an ID number, a password or a PIN


@dataclass(frozen=True)
class StartedCall:
    """A call record just opened, and the language its caller chose on an earlier call (None:
    none remembered, or not looked up)."""

    call_id: int
    remembered_language: str | None = None


@dataclass(frozen=True)
class StepRecord:
    """One step of a call, buffered by the engine and written by ``Records.finish_call``.

    ``key`` is what the caller pressed (``"***"`` for an ID number or a password); ``detail`` is a
    short note that never holds a clear ID or PIN.
    """

    seq: int
    at: datetime
    node: str
    kind: str  # "prompt" | "input" | "action" | "say" | "record" | "end" ...
    key: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class StepView:
    node: str
    key: str | None
    kind: str
    at: datetime
    detail: str


@dataclass(frozen=True)
class CallSummary:
    id: int
    hotline: str
    caller_id: str
    uniqueid: str
    channel: str
    started_at: datetime
    ended_at: datetime | None
    language: str
    outcome: str | None
    last_node: str | None
    next_action: str | None
    id_masked: str | None
    hangup_cause: int | None
    hangup_cause_text: str | None
    duration_s: int | None
    billsec: int | None
    path: list[StepView] = field(default_factory=list)
    path_deleted_at: datetime | None = None  # the steps deleted under the retention policy

    @property
    def duration(self) -> float | None:
        """Seconds: Asterisk's figure when the AMI bridge gave one, else end minus start."""
        if self.duration_s is not None:
            return float(self.duration_s)
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class CitizenView:
    id: int
    id_masked: str
    name: str
    password_hash: str
    password_failures: int
    locked_until: datetime | None


@dataclass(frozen=True)
class MedicalView:
    balance: Decimal
    last_credit_amount: Decimal | None
    last_credit_on: date | None


@dataclass(frozen=True)
class ContributionView:
    insured_status: str  # "active" | "suspended" | "retired"
    last_paid_month: date | None
    contribution_base: Decimal
    months_paid: int


@dataclass(frozen=True)
class CardView:
    id: int
    citizen_id: int
    number: str
    status: CardStatus
    status_since: datetime
    settlement_stopped_at: datetime | None
    issued_on: date


@dataclass(frozen=True)
class ReportView:
    id: int
    reference: str
    status: ReportStatus
    reported_at: datetime
    lapses_on: date | None
    pickup_on: date | None
    card_id: int | None
    id_masked: str
    verified: bool


@dataclass(frozen=True)
class ReportEventView:
    at: datetime
    status: ReportStatus
    actor: str
    note: str
