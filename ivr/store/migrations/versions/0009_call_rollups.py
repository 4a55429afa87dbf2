"""The console at a centre's volume: the statistics' rollups, and indexes for the call log.

- ``call_hours`` and ``call_node_days``: finished calls counted per hour (hotline, outcome) and
  per local day (hotline, outcome, last node), kept from now on by ``ivr.store.rollups`` as calls
  end; filled here from the calls already stored.
- Indexes for the call log's filters (outcome, hotline, each newest first; a caller number by
  its first digits), the calls in progress (partial), and a call's loss reports.
- ``ANALYZE``, so that the planners know the sizes of the tables they choose between.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-16
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ivr.store.database import SQLITE_ANALYZE

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "ended_at IS NULL"

# The same counts as ``ivr.store.rollups`` keeps, as each engine writes them: hours since the
# epoch (UTC), China Standard Time days (UTC+8, no daylight saving), handling time in exact
# microseconds (SQLite keeps times as fixed-width text: seconds from strftime, microseconds from
# characters 21-26).
_SQLITE = {
    "hour": "CAST(strftime('%s', started_at) AS INTEGER) / 3600",
    "day": "date(started_at, '+8 hours')",
    "span_us": "(CAST(strftime('%s', ended_at) AS INTEGER)"
    " - CAST(strftime('%s', started_at) AS INTEGER)) * 1000000"
    " + CAST(substr(ended_at, 21, 6) AS INTEGER) - CAST(substr(started_at, 21, 6) AS INTEGER)",
}
_POSTGRESQL = {
    "hour": "CAST(floor(EXTRACT(EPOCH FROM started_at) / 3600) AS INTEGER)",
    "day": "CAST(started_at AT TIME ZONE 'Asia/Shanghai' AS DATE)",
    "span_us": "CAST(EXTRACT(EPOCH FROM ended_at - started_at) * 1000000 AS BIGINT)",
}


def upgrade() -> None:
    op.create_table(
        "call_hours",
        sa.Column("hour", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hotline", sa.String(8), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("transfers", sa.Integer(), nullable=False),
        sa.Column("handling_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "hotline", "outcome", name="pk_call_hours"),
    )
    op.create_table(
        "call_node_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hotline", sa.String(8), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("node", sa.String(64), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "hotline", "outcome", "node", name="pk_call_node_days"),
    )
    sql = _SQLITE if op.get_bind().dialect.name == "sqlite" else _POSTGRESQL
    op.execute(
        "INSERT INTO call_hours (hour, hotline, outcome, calls, transfers, handling_us)"
        f" SELECT {sql['hour']}, hotline, COALESCE(outcome, ''), COUNT(*),"
        " SUM(CASE WHEN next_action = 'agent' THEN 1 ELSE 0 END),"
        f" SUM(COALESCE(CAST(duration_s AS BIGINT) * 1000000, {sql['span_us']}))"
        " FROM calls WHERE ended_at IS NOT NULL GROUP BY 1, 2, 3"
    )
    op.execute(
        "INSERT INTO call_node_days (day, hotline, outcome, node, calls)"
        f" SELECT {sql['day']}, hotline, COALESCE(outcome, ''), COALESCE(last_node, ''), COUNT(*)"
        " FROM calls WHERE ended_at IS NOT NULL GROUP BY 1, 2, 3, 4"
    )
    op.create_index("ix_calls_outcome_started", "calls", ["outcome", "started_at"])
    op.create_index("ix_calls_hotline_started", "calls", ["hotline", "started_at"])
    op.create_index(
        "ix_calls_open",
        "calls",
        ["started_at"],
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )
    op.create_index(
        "ix_calls_caller_id",
        "calls",
        ["caller_id"],
        postgresql_ops={"caller_id": "varchar_pattern_ops"},
    )
    op.create_index("ix_loss_reports_call_id", "loss_reports", ["call_id"])
    for statement in SQLITE_ANALYZE if op.get_bind().dialect.name == "sqlite" else ("ANALYZE",):
        op.execute(statement)


def downgrade() -> None:
    op.drop_index("ix_loss_reports_call_id", "loss_reports")
    op.drop_index("ix_calls_caller_id", "calls")
    op.drop_index("ix_calls_open", "calls")
    op.drop_index("ix_calls_hotline_started", "calls")
    op.drop_index("ix_calls_outcome_started", "calls")
    op.drop_table("call_node_days")
    op.drop_table("call_hours")
