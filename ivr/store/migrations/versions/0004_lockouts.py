"""Lock-outs that hold under parallel attempts: password checks under way are counted in the row.

Callers: ``citizens.password_checks`` (and when the last was claimed). Console: the lock-out moves
from the account to ``login_throttles``, one row per name typed and source address, so guesses
from one place no longer lock the owner out everywhere; ``users.failed_logins`` and
``users.locked_until`` go (a lock running at the upgrade is lifted).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ivr.store.types import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "citizens",
        sa.Column("password_checks", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column("citizens", sa.Column("password_checks_since", UTCDateTime(), nullable=True))
    op.create_table(
        "login_throttles",
        sa.Column("name_hash", sa.String(64), nullable=False),
        sa.Column("remote", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("last_failure_at", UTCDateTime(), nullable=True),
        sa.Column("checks", sa.Integer(), server_default="0", nullable=False),
        sa.Column("checks_since", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name_hash", "remote", name="pk_login_throttles"),
    )
    # In place, not batch mode: a rebuilt ``users`` could not be dropped while sessions refer to
    # it (SQLite 3.35 or later drops a plain column in place).
    op.drop_column("users", "failed_logins")
    op.drop_column("users", "locked_until")


def downgrade() -> None:
    op.add_column(
        "users", sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column("users", sa.Column("locked_until", UTCDateTime(), nullable=True))
    op.drop_table("login_throttles")
    op.drop_column("citizens", "password_checks_since")
    op.drop_column("citizens", "password_checks")
