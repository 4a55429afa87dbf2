"""One voice message per recorded file.

Two sweeps of the dialplan's messages (``ivr.runtime.dialplan_messages``: two nodes sharing the
database, or two overlapping on one) could each store the same file: a voice message twice in the
console, a call-back task twice. From now on a partial unique index on the path of the voice
messages lets only the first in. The duplicates stored before it are merged first:

- the earliest recording of each path (the lowest id) is kept; whatever referred to the others
  (call-back tasks, loss reports) refers to it instead; the sound kept in the database moves to it
  when it had none; the retention policy's deletion of the shared file marks it too;
- the call-back tasks that now share a recording are one: the furthest along is kept (handled,
  then taken, then the earliest);
- a call the sweep made for a message no process took (no caller, no channel) that is left with
  nothing is removed, and taken out of the statistics' rollups.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VOICE_MESSAGE_ROW = "kind = 'voice_message'"

# The rollups' keys and handling time as ``ivr.store.rollups`` keeps them (as in 0009).
_SQLITE = {
    "hour": "CAST(strftime('%s', c.started_at) AS INTEGER) / 3600",
    "day": "date(c.started_at, '+8 hours')",
    "span_us": "(CAST(strftime('%s', c.ended_at) AS INTEGER)"
    " - CAST(strftime('%s', c.started_at) AS INTEGER)) * 1000000"
    " + CAST(substr(c.ended_at, 21, 6) AS INTEGER)"
    " - CAST(substr(c.started_at, 21, 6) AS INTEGER)",
}
_POSTGRESQL = {
    "hour": "CAST(floor(EXTRACT(EPOCH FROM c.started_at) / 3600) AS INTEGER)",
    "day": "CAST(c.started_at AT TIME ZONE 'Asia/Shanghai' AS DATE)",
    "span_us": "CAST(EXTRACT(EPOCH FROM c.ended_at - c.started_at) * 1000000 AS BIGINT)",
}
# Every table that refers to a call: a call none of them refers to holds nothing.
_CALL_REFERENCES = (
    ("call_steps", "call_id"),
    ("recordings", "call_id"),
    ("voice_messages", "call_id"),
    ("loss_reports", "call_id"),
    ("balance_queries", "call_id"),
    ("password_changes", "call_id"),
    ("security_events", "call_id"),
)

_KEEPER = "(SELECT keeper_id FROM merged_recordings WHERE duplicate_id = {column})"
_MERGED = "(SELECT duplicate_id FROM merged_recordings)"


def upgrade() -> None:
    _merge_duplicates()
    op.create_index(
        "ux_recordings_voice_message_path",
        "recordings",
        ["path"],
        unique=True,
        sqlite_where=sa.text(VOICE_MESSAGE_ROW),
        postgresql_where=sa.text(VOICE_MESSAGE_ROW),
    )


def downgrade() -> None:
    op.drop_index("ux_recordings_voice_message_path", "recordings")


def _merge_duplicates() -> None:
    op.execute(
        "CREATE TEMPORARY TABLE merged_recordings AS"
        " SELECT r.id AS duplicate_id, k.keeper_id, r.call_id"
        " FROM recordings r JOIN ("
        f"  SELECT path, MIN(id) AS keeper_id FROM recordings WHERE {VOICE_MESSAGE_ROW}"
        "   GROUP BY path HAVING COUNT(*) > 1"
        " ) k ON r.path = k.path"
        f" WHERE r.{VOICE_MESSAGE_ROW} AND r.id <> k.keeper_id"
    )
    for table, column in (
        ("voice_messages", "recording_id"),
        ("loss_reports", "statement_recording_id"),
    ):
        op.execute(
            f"UPDATE {table} SET {column} = {_KEEPER.format(column=f'{table}.{column}')}"
            f" WHERE {column} IN {_MERGED}"
        )
    # The file is shared: deleted for one row, deleted for the one kept.
    op.execute(
        "UPDATE recordings SET deleted_at = ("
        " SELECT MIN(r.deleted_at) FROM recordings r"
        " JOIN merged_recordings m ON m.duplicate_id = r.id WHERE m.keeper_id = recordings.id"
        ") WHERE deleted_at IS NULL AND id IN (SELECT keeper_id FROM merged_recordings)"
    )
    op.execute(
        f"UPDATE recording_audio SET recording_id = {_KEEPER.format(column='recording_id')}"
        " WHERE recording_id IN ("
        "  SELECT MIN(m.duplicate_id) FROM merged_recordings m"
        "  JOIN recordings k ON k.id = m.keeper_id"
        "  WHERE k.deleted_at IS NULL"
        "   AND m.keeper_id NOT IN (SELECT recording_id FROM recording_audio)"
        "   AND m.duplicate_id IN (SELECT recording_id FROM recording_audio)"
        "  GROUP BY m.keeper_id"
        " )"
    )
    op.execute(f"DELETE FROM recording_audio WHERE recording_id IN {_MERGED}")
    op.execute(
        "DELETE FROM voice_messages WHERE id IN ("
        " SELECT id FROM ("
        "  SELECT id, ROW_NUMBER() OVER (PARTITION BY recording_id ORDER BY"
        "   CASE WHEN handled_at IS NULL THEN 1 ELSE 0 END,"
        "   CASE WHEN taken_at IS NULL THEN 1 ELSE 0 END, id) AS place"
        "  FROM voice_messages"
        "  WHERE recording_id IN (SELECT keeper_id FROM merged_recordings)"
        " ) ranked WHERE place > 1"
        ")"
    )
    op.execute(f"DELETE FROM recordings WHERE id IN {_MERGED}")
    _drop_emptied_calls()
    op.execute("DROP TABLE merged_recordings")


def _drop_emptied_calls() -> None:
    """The calls the sweep made for a duplicate, left with nothing: out of the rollups, then
    gone."""
    held = " AND ".join(
        f"NOT EXISTS (SELECT 1 FROM {table} WHERE {table}.{column} = calls.id)"
        for table, column in _CALL_REFERENCES
    )
    op.execute(
        "CREATE TEMPORARY TABLE emptied_calls AS SELECT id FROM calls"
        " WHERE id IN (SELECT call_id FROM merged_recordings)"
        " AND caller_id = '' AND channel = '' AND outcome = 'voice_message'"
        f" AND ended_at IS NOT NULL AND {held}"
    )
    sql = _SQLITE if op.get_bind().dialect.name == "sqlite" else _POSTGRESQL
    emptied = "FROM calls c JOIN emptied_calls e ON e.id = c.id"
    hour = (
        f"{emptied} WHERE {sql['hour']} = call_hours.hour AND c.hotline = call_hours.hotline"
        " AND COALESCE(c.outcome, '') = call_hours.outcome"
    )
    op.execute(
        f"UPDATE call_hours SET calls = calls - (SELECT COUNT(*) {hour}),"
        " transfers = transfers"
        f" - (SELECT COALESCE(SUM(CASE WHEN c.next_action = 'agent' THEN 1 ELSE 0 END), 0) {hour}),"
        " handling_us = handling_us - (SELECT COALESCE(SUM(COALESCE("
        f"CAST(c.duration_s AS BIGINT) * 1000000, {sql['span_us']})), 0) {hour})"
        f" WHERE EXISTS (SELECT 1 {hour})"
    )
    node = (
        f"{emptied} WHERE {sql['day']} = call_node_days.day"
        " AND c.hotline = call_node_days.hotline"
        " AND COALESCE(c.outcome, '') = call_node_days.outcome"
        " AND COALESCE(c.last_node, '') = call_node_days.node"
    )
    op.execute(
        f"UPDATE call_node_days SET calls = calls - (SELECT COUNT(*) {node})"
        f" WHERE EXISTS (SELECT 1 {node})"
    )
    op.execute("DELETE FROM calls WHERE id IN (SELECT id FROM emptied_calls)")
    op.execute("DROP TABLE emptied_calls")
