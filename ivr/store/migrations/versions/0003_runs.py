"""Hotline processes (runs) and their heartbeat; each call names the run that took it.

A process killed mid-call leaves its calls open; with the run recorded, the next start (or another
node) sees the run's heartbeat go stale and closes them as interrupted.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ivr.store.types import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("node", sa.String(64), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
        sa.Column("stopped_at", UTCDateTime(), nullable=True),
        sa.Column("stop_reason", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
    )
    # Not batch mode: on SQLite it would rebuild ``calls``, and dropping the old table fails once
    # call steps refer to its rows (foreign keys are on). Both engines add a nullable column with
    # a named reference in place.
    op.execute(
        "ALTER TABLE calls ADD COLUMN run_id INTEGER"
        " CONSTRAINT fk_calls_run_id_runs REFERENCES runs (id)"
    )
    op.create_index("ix_calls_run_id", "calls", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_calls_run_id", "calls")
    op.drop_column("calls", "run_id")  # its reference goes with it (SQLite 3.35 or later)
    op.drop_table("runs")
