"""The initial schema: citizens and their accounts, cards and loss reports, calls and their steps.

Statuses are plain VARCHAR columns holding the enum values of ``ivr.domain.cards`` (frozen here as
strings, so this revision never changes when the domain grows).

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

from ivr.store.types import Money, UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HASH = 64
MASKED = 24
STATUS = 24


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), nullable=False)


def _at(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, UTCDateTime(), nullable=nullable)


def _fk(name: str, target: str, table: str, *, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(
        name,
        sa.Integer(),
        sa.ForeignKey(target, name=f"fk_{table}_{name}_{target.split('.')[0]}"),
        nullable=nullable,
    )


def _citizen_pk(table: str) -> sa.Column[int]:
    return _fk("citizen_id", "citizens.id", table)


def _index(table: str, *columns: str, unique: bool = False) -> None:
    op.create_index(f"ix_{table}_{columns[0]}", table, list(columns), unique=unique)


def _pk(table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint("id", name=f"pk_{table}")


def upgrade() -> None:
    op.create_table(
        "citizens",
        _id(),
        sa.Column("id_hash", sa.String(HASH), nullable=False),
        sa.Column("id_masked", sa.String(MASKED), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("password_failures", sa.Integer(), server_default="0", nullable=False),
        _at("locked_until", nullable=True),
        _at("password_changed_at", nullable=True),
        _at("created_at"),
        _pk("citizens"),
        sa.UniqueConstraint("id_hash", name="uq_citizens_id_hash"),
    )
    op.create_table(
        "calls",
        _id(),
        sa.Column("hotline", sa.String(8), nullable=False),
        sa.Column("caller_id", sa.String(40), nullable=False),
        sa.Column("uniqueid", sa.String(40), nullable=False),
        sa.Column("linkedid", sa.String(40), nullable=True),
        sa.Column("channel", sa.String(80), nullable=False),
        _at("started_at"),
        _at("ended_at", nullable=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("last_node", sa.String(64), nullable=True),
        sa.Column("next_action", sa.String(32), nullable=True),
        sa.Column("id_masked", sa.String(MASKED), nullable=True),
        sa.Column("id_hash", sa.String(HASH), nullable=True),
        sa.Column("hangup_cause", sa.Integer(), nullable=True),
        sa.Column("hangup_cause_text", sa.String(64), nullable=True),
        sa.Column("duration_s", sa.Integer(), nullable=True),
        sa.Column("billsec", sa.Integer(), nullable=True),
        _pk("calls"),
    )
    _index("calls", "id_hash")
    _index("calls", "started_at")
    _index("calls", "uniqueid")

    op.create_table(
        "pension_accounts",
        _citizen_pk("pension_accounts"),
        sa.Column("balance", Money(), nullable=False),
        sa.PrimaryKeyConstraint("citizen_id", name="pk_pension_accounts"),
    )
    op.create_table(
        "medical_accounts",
        _citizen_pk("medical_accounts"),
        sa.Column("balance", Money(), nullable=False),
        sa.Column("last_credit_amount", Money(), nullable=True),
        sa.Column("last_credit_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("citizen_id", name="pk_medical_accounts"),
    )
    op.create_table(
        "contribution_records",
        _citizen_pk("contribution_records"),
        sa.Column("insured_status", sa.String(12), nullable=False),
        sa.Column("last_paid_month", sa.Date(), nullable=True),
        sa.Column("contribution_base", Money(), nullable=False),
        sa.Column("months_paid", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("citizen_id", name="pk_contribution_records"),
    )

    op.create_table(
        "monthly_credits",
        _id(),
        _fk("citizen_id", "citizens.id", "monthly_credits"),
        sa.Column("account", sa.String(8), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        _pk("monthly_credits"),
        sa.UniqueConstraint(
            "citizen_id", "account", "month", name="uq_monthly_credits_citizen_id_account_month"
        ),
    )
    _index("monthly_credits", "citizen_id")

    op.create_table(
        "cards",
        _id(),
        _fk("citizen_id", "citizens.id", "cards"),
        sa.Column("number", sa.String(9), nullable=False),
        sa.Column("status", sa.String(STATUS), nullable=False),
        _at("status_since"),
        _at("settlement_stopped_at", nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=False),
        _fk("replaced_by_id", "cards.id", "cards", nullable=True),
        _pk("cards"),
        sa.UniqueConstraint("number", name="uq_cards_number"),
    )
    _index("cards", "citizen_id")

    op.create_table(
        "call_steps",
        _id(),
        _fk("call_id", "calls.id", "call_steps"),
        sa.Column("seq", sa.Integer(), nullable=False),
        _at("at"),
        sa.Column("node", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(32), nullable=True),
        sa.Column("detail", sa.String(200), server_default="", nullable=False),
        _pk("call_steps"),
        sa.UniqueConstraint("call_id", "seq", name="uq_call_steps_call_id_seq"),
    )
    _index("call_steps", "call_id")

    op.create_table(
        "recordings",
        _id(),
        _fk("call_id", "calls.id", "recordings"),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("path", sa.String(255), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        _at("created_at"),
        _pk("recordings"),
    )
    _index("recordings", "call_id")

    op.create_table(
        "loss_reports",
        _id(),
        sa.Column("reference", sa.String(12), nullable=False),
        _fk("card_id", "cards.id", "loss_reports", nullable=True),
        _fk("citizen_id", "citizens.id", "loss_reports", nullable=True),
        sa.Column("id_hash", sa.String(HASH), nullable=False),
        sa.Column("id_masked", sa.String(MASKED), nullable=False),
        _fk("call_id", "calls.id", "loss_reports", nullable=True),
        sa.Column("status", sa.String(STATUS), nullable=False),
        _at("reported_at"),
        sa.Column("lapses_on", sa.Date(), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=False),
        _at("formal_at", nullable=True),
        sa.Column("pickup_on", sa.Date(), nullable=True),
        _at("card_made_at", nullable=True),
        _at("picked_up_at", nullable=True),
        _at("lifted_at", nullable=True),
        _fk("statement_recording_id", "recordings.id", "loss_reports", nullable=True),
        _at("updated_at"),
        _pk("loss_reports"),
        sa.UniqueConstraint("reference", name="uq_loss_reports_reference"),
    )
    _index("loss_reports", "card_id")
    _index("loss_reports", "citizen_id")
    _index("loss_reports", "id_hash")

    op.create_table(
        "report_events",
        _id(),
        _fk("report_id", "loss_reports.id", "report_events"),
        _at("at"),
        sa.Column("status", sa.String(STATUS), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("note", sa.String(200), server_default="", nullable=False),
        _pk("report_events"),
    )
    _index("report_events", "report_id")

    op.create_table(
        "balance_queries",
        _id(),
        _fk("call_id", "calls.id", "balance_queries", nullable=True),
        _fk("citizen_id", "citizens.id", "balance_queries"),
        sa.Column("kind", sa.String(16), nullable=False),
        _at("at"),
        _pk("balance_queries"),
    )
    _index("balance_queries", "call_id")
    _index("balance_queries", "citizen_id")

    op.create_table(
        "password_changes",
        _id(),
        _fk("citizen_id", "citizens.id", "password_changes"),
        _fk("call_id", "calls.id", "password_changes", nullable=True),
        _at("at"),
        _pk("password_changes"),
    )
    _index("password_changes", "citizen_id")

    op.create_table(
        "security_events",
        _id(),
        _at("at"),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("id_hash", sa.String(HASH), nullable=True),
        sa.Column("id_masked", sa.String(MASKED), nullable=True),
        _fk("call_id", "calls.id", "security_events", nullable=True),
        sa.Column("detail", sa.String(200), server_default="", nullable=False),
        _pk("security_events"),
    )
    _index("security_events", "at")
    _index("security_events", "call_id")
    _index("security_events", "id_hash")

    op.create_table(
        "voice_messages",
        _id(),
        _fk("call_id", "calls.id", "voice_messages"),
        _fk("recording_id", "recordings.id", "voice_messages"),
        sa.Column("callback_number", sa.String(32), nullable=False),
        _at("created_at"),
        _at("handled_at", nullable=True),
        _pk("voice_messages"),
    )
    _index("voice_messages", "call_id")


def downgrade() -> None:
    for table in (
        "voice_messages",
        "security_events",
        "password_changes",
        "balance_queries",
        "report_events",
        "loss_reports",
        "recordings",
        "call_steps",
        "cards",
        "monthly_credits",
        "contribution_records",
        "medical_accounts",
        "pension_accounts",
        "calls",
        "citizens",
    ):
        op.drop_table(table)
