"""Retention: when a recording's file and a call's path were deleted under the policy.

Both rows stay (the console tells what was there and when it went); the indexes let the daily
prune find what is due without reading the ones deleted already.

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-09
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ivr.store.types import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch mode): on SQLite a rebuild of ``calls`` would break the
    # references to it (see 0003).
    op.add_column("recordings", sa.Column("deleted_at", UTCDateTime(), nullable=True))
    op.add_column("calls", sa.Column("path_deleted_at", UTCDateTime(), nullable=True))
    op.create_index("ix_recordings_due", "recordings", ["deleted_at", "created_at"])
    op.create_index("ix_calls_path_due", "calls", ["path_deleted_at", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_calls_path_due", "calls")
    op.drop_index("ix_recordings_due", "recordings")
    op.drop_column("calls", "path_deleted_at")
    op.drop_column("recordings", "deleted_at")
