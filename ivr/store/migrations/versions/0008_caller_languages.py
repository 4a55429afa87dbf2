"""Callers' language choices, remembered for their next call: the calling number only as its keyed
hash. The retention policy forgets a choice unused for ``language_memory_days`` (the index lets
the daily prune find them).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ivr.store.types import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "caller_languages",
        sa.Column("number_hash", sa.String(64), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("number_hash", name="pk_caller_languages"),
    )
    op.create_index("ix_caller_languages_used_at", "caller_languages", ["used_at"])


def downgrade() -> None:
    op.drop_index("ix_caller_languages_used_at", "caller_languages")
    op.drop_table("caller_languages")
