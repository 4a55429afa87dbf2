"""The console for the people who work in it: each account's language.

``users.locale``: the console's language for the account (Simplified Chinese unless it chose
English); existing accounts get Chinese, the default.

``voice_messages``: each is a call-back task (``ivr.domain.callbacks``): its status, who took it
and when, when it was called back and with what result; ``handled_at`` (0001) is when it was
closed. Messages handled before this revision are closed, the others new.

``users.disabled_at``: a supervisor disabled the account (it cannot log in; ``NULL``: active).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-14
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ivr.store.types import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch mode): sessions refer to ``users`` (see 0004).
    op.add_column(
        "users",
        sa.Column("locale", sa.String(16), server_default="zh_Hans_CN", nullable=False),
    )
    op.add_column("users", sa.Column("disabled_at", UTCDateTime(), nullable=True))
    op.add_column(
        "voice_messages",
        sa.Column("status", sa.String(16), server_default="new", nullable=False),
    )
    op.add_column("voice_messages", sa.Column("taken_by", sa.String(64), nullable=True))
    op.add_column("voice_messages", sa.Column("taken_at", UTCDateTime(), nullable=True))
    op.add_column("voice_messages", sa.Column("called_back_at", UTCDateTime(), nullable=True))
    op.add_column("voice_messages", sa.Column("result", sa.String(16), nullable=True))
    op.add_column(
        "voice_messages", sa.Column("note", sa.String(200), server_default="", nullable=False)
    )
    op.execute("UPDATE voice_messages SET status = 'closed' WHERE handled_at IS NOT NULL")


def downgrade() -> None:
    for column in ("note", "result", "called_back_at", "taken_at", "taken_by", "status"):
        op.drop_column("voice_messages", column)
    op.drop_column("users", "disabled_at")
    op.drop_column("users", "locale")
