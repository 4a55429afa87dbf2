"""Recordings' sound in the shared database, so a console on any node plays what another recorded.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recording_audio",
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("audio", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name="fk_recording_audio_recording_id_recordings",
        ),
        sa.PrimaryKeyConstraint("recording_id", name="pk_recording_audio"),
    )


def downgrade() -> None:
    op.drop_table("recording_audio")
