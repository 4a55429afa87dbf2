"""The tables. ID numbers appear only as a keyed hash (``id_hash``, HMAC-SHA256 hex) and a masked
form (``110105********002X``); passwords only as their argon2 hash; a PIN never.

Times are timezone-aware UTC (``UTCDateTime``), amounts exact ``Decimal`` (``Money``).
The schema itself is created by the Alembic migrations in ``ivr/store/migrations``; keep the two in
step (``tests/store/test_migrations.py`` compares them).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Enum,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ivr.domain.cards import CardStatus, ReportStatus
from ivr.store.types import Money, UTCDateTime, utcnow

__all__ = [
    "DEFAULT_LOCALE",
    "VOICE_MESSAGE",
    "VOICE_MESSAGE_ROW",
    "AuditLogEntry",
    "BalanceQuery",
    "Base",
    "Call",
    "CallHour",
    "CallNodeDay",
    "CallStep",
    "CallerLanguage",
    "Card",
    "Citizen",
    "ContributionRecord",
    "LoginThrottle",
    "LossReport",
    "MedicalAccount",
    "MonthlyCredit",
    "PasswordChange",
    "PensionAccount",
    "Recording",
    "ReportEvent",
    "Run",
    "SecurityEvent",
    "User",
    "VoiceMessage",
    "WebSession",
    "table_of",
]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

HASH_LEN = 64  # hex HMAC-SHA256
DEFAULT_LOCALE = "zh_Hans_CN"  # the console's language for an account that chose none
MASKED_LEN = 24  # 18 for a valid number; some slack for a masked invalid entry
VOICE_MESSAGE = "voice_message"  # a recording's kind: a message left for a call-back
# The recordings that are voice messages, as the partial unique index on their path says it.
VOICE_MESSAGE_ROW = f"kind = '{VOICE_MESSAGE}'"


def _status_enum(enum_class: type[CardStatus] | type[ReportStatus], name: str) -> Enum:
    # Plain VARCHAR holding the enum's value (no native enum type: simpler migrations).
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=False,
        length=24,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), Decimal: Money()}


def table_of(model: type[Base]) -> Table:
    """The model's table, for Core statements (a call's transactions: ``Database.run_write``)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


class Citizen(Base):
    __tablename__ = "citizens"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_hash: Mapped[str] = mapped_column(String(HASH_LEN), unique=True)
    id_masked: Mapped[str] = mapped_column(String(MASKED_LEN))
    name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    password_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None]
    # Password checks claimed and not settled yet, and when the last was claimed (migration 0004):
    # the lock-out counts them (``ivr.domain.lockout``).
    password_checks: Mapped[int] = mapped_column(default=0, server_default="0")
    password_checks_since: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PensionAccount(Base):
    __tablename__ = "pension_accounts"

    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), primary_key=True)
    balance: Mapped[Decimal]


class MedicalAccount(Base):
    __tablename__ = "medical_accounts"

    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), primary_key=True)
    balance: Mapped[Decimal]
    last_credit_amount: Mapped[Decimal | None]
    last_credit_on: Mapped[date | None]


class MonthlyCredit(Base):
    __tablename__ = "monthly_credits"
    __table_args__ = (UniqueConstraint("citizen_id", "account", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    account: Mapped[str] = mapped_column(String(8))  # "pension" | "medical"
    month: Mapped[date]  # first day of the month
    amount: Mapped[Decimal]


class ContributionRecord(Base):
    __tablename__ = "contribution_records"

    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), primary_key=True)
    insured_status: Mapped[str] = mapped_column(String(12))  # "active" | "suspended" | "retired"
    last_paid_month: Mapped[date | None]
    contribution_base: Mapped[Decimal]
    months_paid: Mapped[int]


class Card(Base):
    __tablename__ = "cards"

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    number: Mapped[str] = mapped_column(String(9), unique=True)
    status: Mapped[CardStatus] = mapped_column(_status_enum(CardStatus, "card_status"))
    status_since: Mapped[datetime]
    settlement_stopped_at: Mapped[datetime | None]
    issued_on: Mapped[date]
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"))


class Run(Base):
    """One running hotline process; its calls point at it, so a dead one's calls can be closed.

    ``last_seen`` is its heartbeat. ``stopped_at`` stays NULL while it runs; ``stop_reason`` is
    "stopped" for a clean stop, "died" when another process found its heartbeat stale.
    """

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    node: Mapped[str] = mapped_column(String(64))
    pid: Mapped[int]
    started_at: Mapped[datetime]
    last_seen: Mapped[datetime]
    stopped_at: Mapped[datetime | None]
    stop_reason: Mapped[str | None] = mapped_column(String(16))


class Call(Base):
    __tablename__ = "calls"
    __table_args__ = (
        # The daily prune looks for old paths not deleted yet (migration 0005).
        Index("ix_calls_path_due", "path_deleted_at", "started_at"),
        # The call log's filters, newest first (migration 0009); the statistics' calls in progress.
        Index("ix_calls_outcome_started", "outcome", "started_at"),
        Index("ix_calls_hotline_started", "hotline", "started_at"),
        Index(
            "ix_calls_open",
            "started_at",
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
        # A caller number by its first digits, compared character by character on both engines
        # (``ivr.store.console``): PostgreSQL's pattern operator class ignores the locale.
        Index(
            "ix_calls_caller_id", "caller_id", postgresql_ops={"caller_id": "varchar_pattern_ops"}
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    hotline: Mapped[str] = mapped_column(String(8))  # "12333" | "96102"
    caller_id: Mapped[str] = mapped_column(String(40))
    uniqueid: Mapped[str] = mapped_column(String(40), index=True)
    linkedid: Mapped[str | None] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(80))
    started_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]
    language: Mapped[str] = mapped_column(String(8))
    outcome: Mapped[str | None] = mapped_column(String(20))
    last_node: Mapped[str | None] = mapped_column(String(64))
    next_action: Mapped[str | None] = mapped_column(String(32))
    id_masked: Mapped[str | None] = mapped_column(String(MASKED_LEN))
    id_hash: Mapped[str | None] = mapped_column(String(HASH_LEN), index=True)
    hangup_cause: Mapped[int | None]
    hangup_cause_text: Mapped[str | None] = mapped_column(String(64))
    duration_s: Mapped[int | None]
    billsec: Mapped[int | None]
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"), index=True)  # migration 0003
    # When the retention policy deleted the call's steps (migration 0005); the row stays.
    path_deleted_at: Mapped[datetime | None]


class CallHour(Base):
    """Finished calls counted by the hour they started in, hotline and outcome (migration 0009).

    Kept by ``ivr.store.rollups`` in the transaction that writes a call's end, so the statistics
    read a month in as few rows as an hour. ``hour``: whole hours since 1970-01-01 00:00 UTC
    (Beijing is a whole number of hours ahead, so its local hours and days are runs of these).
    ``outcome`` is empty for a call ended without one.
    """

    __tablename__ = "call_hours"

    hour: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    hotline: Mapped[str] = mapped_column(String(8), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(20), primary_key=True)
    calls: Mapped[int]
    transfers: Mapped[int]  # next_action "agent"
    handling_us: Mapped[int] = mapped_column(BigInteger)  # summed; see ``rollups.handling_us``


class CallNodeDay(Base):
    """Finished calls counted by the local (Beijing) day they started on, hotline, outcome and
    the node the call ended at (``last_node``; empty for none): the drop-off per menu node
    (migration 0009, kept with ``CallHour``)."""

    __tablename__ = "call_node_days"

    day: Mapped[date] = mapped_column(primary_key=True)
    hotline: Mapped[str] = mapped_column(String(8), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(20), primary_key=True)
    node: Mapped[str] = mapped_column(String(64), primary_key=True)
    calls: Mapped[int]


class CallStep(Base):
    __tablename__ = "call_steps"
    __table_args__ = (UniqueConstraint("call_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    seq: Mapped[int]
    at: Mapped[datetime]
    node: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str | None] = mapped_column(String(32))  # sensitive entries stored as "***"
    detail: Mapped[str] = mapped_column(String(200), default="", server_default="")


class Recording(Base):
    """A recorded statement or voice message. The retention policy deletes the file and sets
    ``deleted_at``; the row stays, so the console can tell what was there and when it went."""

    __tablename__ = "recordings"
    __table_args__ = (
        Index("ix_recordings_due", "deleted_at", "created_at"),
        # One voice message per file (migration 0010): sweeps of the dialplan's messages on two
        # nodes, or overlapping on one, insert against it (``ivr.store.dialplan_messages``).
        Index(
            "ux_recordings_voice_message_path",
            "path",
            unique=True,
            sqlite_where=text(VOICE_MESSAGE_ROW),
            postgresql_where=text(VOICE_MESSAGE_ROW),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "statement" | "voice_message"
    path: Mapped[str] = mapped_column(String(255))  # relative to the data folder
    duration_s: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]  # migration 0005


class RecordingAudio(Base):
    """A recording's sound, kept in the shared database when several nodes share it: the node
    that recorded it may be gone, or another machine, when a supervisor plays it. Deleted with
    the recording's file under the retention policy. (Migration 0006.)"""

    __tablename__ = "recording_audio"

    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"), primary_key=True)
    audio: Mapped[bytes] = mapped_column(LargeBinary)


class LossReport(Base):
    __tablename__ = "loss_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"), index=True)
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"), index=True)
    id_hash: Mapped[str] = mapped_column(String(HASH_LEN), index=True)
    id_masked: Mapped[str] = mapped_column(String(MASKED_LEN))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), index=True)  # 0009
    status: Mapped[ReportStatus] = mapped_column(_status_enum(ReportStatus, "report_status"))
    reported_at: Mapped[datetime]
    lapses_on: Mapped[date | None]
    verified: Mapped[bool] = mapped_column(default=False)
    formal_at: Mapped[datetime | None]
    pickup_on: Mapped[date | None]
    card_made_at: Mapped[datetime | None]
    picked_up_at: Mapped[datetime | None]
    lifted_at: Mapped[datetime | None]
    statement_recording_id: Mapped[int | None] = mapped_column(ForeignKey("recordings.id"))
    updated_at: Mapped[datetime]


class ReportEvent(Base):
    __tablename__ = "report_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("loss_reports.id"), index=True)
    at: Mapped[datetime]
    status: Mapped[ReportStatus] = mapped_column(_status_enum(ReportStatus, "report_status"))
    actor: Mapped[str] = mapped_column(String(64))  # "caller" | "staff:<name>" | "system"
    note: Mapped[str] = mapped_column(String(200), default="", server_default="")


class BalanceQuery(Base):
    __tablename__ = "balance_queries"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), index=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "pension" | "medical" | "contributions"
    at: Mapped[datetime]


class PasswordChange(Base):
    __tablename__ = "password_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"))
    at: Mapped[datetime]


class SecurityEvent(Base):
    __tablename__ = "security_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(24))
    id_hash: Mapped[str | None] = mapped_column(String(HASH_LEN), index=True)
    id_masked: Mapped[str | None] = mapped_column(String(MASKED_LEN))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), index=True)
    detail: Mapped[str] = mapped_column(String(200), default="", server_default="")


class VoiceMessage(Base):
    __tablename__ = "voice_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"))
    callback_number: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[datetime | None]  # the call-back task closed
    # The call-back task (migration 0007; ``ivr.domain.callbacks``).
    status: Mapped[str] = mapped_column(String(16), default="new", server_default="new")
    taken_by: Mapped[str | None] = mapped_column(String(64))
    taken_at: Mapped[datetime | None]
    called_back_at: Mapped[datetime | None]
    result: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(200), default="", server_default="")


class CallerLanguage(Base):
    """A caller's language choice, remembered for their next call (migration
    0008): the calling number only as its keyed hash (``ivr.domain.callers``).
    Forgotten when unused for the retention policy's ``language_memory``."""

    __tablename__ = "caller_languages"

    number_hash: Mapped[str] = mapped_column(String(HASH_LEN), primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    used_at: Mapped[datetime] = mapped_column(index=True)  # chosen, or last greeted in it


# -- supervisor console (migration 0002) -------------------------------------------------------


class User(Base):
    """A console account; the password only as its argon2 hash (the lock-out: ``LoginThrottle``)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # "supervisor" | "staff" | "auditor"
    password_hash: Mapped[str] = mapped_column(String(255))
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The console's language for this person (migration 0007).
    locale: Mapped[str] = mapped_column(
        String(16), default=DEFAULT_LOCALE, server_default=DEFAULT_LOCALE
    )
    disabled_at: Mapped[datetime | None]  # disabled by a supervisor: cannot log in (0007)


class LoginThrottle(Base):
    """The log-in lock-out of one name typed from one source address (migration 0004), whether an
    account has that name or not; the name only as its SHA-256 (a password typed as a name is
    not kept in clear)."""

    __tablename__ = "login_throttles"

    name_hash: Mapped[str] = mapped_column(String(HASH_LEN), primary_key=True)
    remote: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None]
    checks: Mapped[int] = mapped_column(default=0, server_default="0")
    checks_since: Mapped[datetime | None]


class WebSession(Base):
    """A console session; the cookie holds a random token, the table only its SHA-256."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(HASH_LEN), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class AuditLogEntry(Base):
    """Who looked at or changed what in the console; IDs only masked, never in clear."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64))  # the username typed or logged in
    role: Mapped[str] = mapped_column(String(16), default="", server_default="")
    action: Mapped[str] = mapped_column(String(32), index=True)
    target: Mapped[str] = mapped_column(String(64), default="", server_default="")
    detail: Mapped[str] = mapped_column(String(200), default="", server_default="")
    remote: Mapped[str] = mapped_column(String(64), default="", server_default="")
