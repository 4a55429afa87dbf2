"""Callers' language choices, remembered for their next call: the calling number only as its keyed
hash. The retention policy forgets a choice unused for ``language_memory_days`` (the index lets
the daily prune find them).

Revision ID: 0006_caller_languages
Revises: 0006 (recording audio)
Create Date: 2027-01-05

Numbered 0006 on its branch, written beside main's 0006 (recording audio); it follows that one
so the history has one head (the merger renumbers it).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ivr.store.types import UTCDateTime

revision: str = "0006_caller_languages"
down_revision: str | None = "0006"
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
