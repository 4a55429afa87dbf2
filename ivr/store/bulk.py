"""Whole calls written in bulk: a month of generated traffic (``hotline db seed --calls``).

A batch of calls, their steps and their counts in the statistics' rollups go in one transaction,
through the driver's bulk path: ``executemany`` on SQLite (aiosqlite runs it in its own thread),
``COPY`` on PostgreSQL. The rows are made ready for the driver in a worker thread, with the
column types' own conversions, so they are stored exactly as the records API would store them;
the event loop only hands them over.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.database import Database
from ivr.store.models import Call, CallStep
from ivr.store.rollups import CallEnd, Tally, save_tally
from ivr.store.views import StepRecord

__all__ = ["NewCall", "add_calls"]


@dataclass(frozen=True)
class NewCall:
    """A call as a whole: how it started, how it ended (``ended_at`` None: in progress), its path.
    Texts must fit their columns (``ivr.store.models.Call``)."""

    hotline: str
    caller_id: str
    uniqueid: str
    channel: str
    language: str
    started_at: datetime
    ended_at: datetime | None
    outcome: str | None
    last_node: str | None
    next_action: str | None
    id_hash: str | None
    id_masked: str | None
    hangup_cause: int | None
    hangup_cause_text: str | None
    duration_s: int | None
    billsec: int | None
    steps: tuple[StepRecord, ...] = ()


_CALL_COLUMNS = (
    "id",
    "hotline",
    "caller_id",
    "uniqueid",
    "channel",
    "language",
    "started_at",
    "ended_at",
    "outcome",
    "last_node",
    "next_action",
    "id_hash",
    "id_masked",
    "hangup_cause",
    "hangup_cause_text",
    "duration_s",
    "billsec",
)
_STEP_COLUMNS = ("call_id", "seq", "at", "node", "kind", "key", "detail")


async def add_calls(db: Database, calls: Sequence[NewCall]) -> list[int]:
    """Write the calls, their steps and their rollups in one transaction; their new ids."""
    if not calls:
        return []
    async with db.write() as session:
        ids = await _new_ids(session, len(calls), sqlite=db.is_sqlite)
        dialect = (await session.connection()).dialect
        call_rows, step_rows = await asyncio.to_thread(_rows, dialect, ids, calls)
        await _copy(session, _table(Call), _CALL_COLUMNS, call_rows)
        await _copy(session, _table(CallStep), _STEP_COLUMNS, step_rows)
        await save_tally(session, await asyncio.to_thread(_tally, calls))
    return ids


async def _new_ids(session: AsyncSession, count: int, *, sqlite: bool) -> list[int]:
    """Ids no other call has or will get: on SQLite after the last (this transaction is the one
    writer), on PostgreSQL taken from the ids' sequence."""
    if sqlite:
        top = int(
            (await session.execute(text("SELECT COALESCE(MAX(id), 0) FROM calls"))).scalar_one()
        )
        return list(range(top + 1, top + 1 + count))
    taken = await session.scalars(
        text("SELECT nextval(pg_get_serial_sequence('calls', 'id')) FROM generate_series(1, :n)"),
        {"n": count},
    )
    return [int(call_id) for call_id in taken]


def _table(model: type[Call] | type[CallStep]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _rows(
    dialect: Dialect, ids: Sequence[int], calls: Sequence[NewCall]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The rows as the driver takes them (blocking: run in a worker thread)."""
    at = _converter(dialect, _table(CallStep).c.at.type)
    started = _converter(dialect, _table(Call).c.started_at.type)
    call_rows: list[tuple[Any, ...]] = []
    step_rows: list[tuple[Any, ...]] = []
    for call_id, call in zip(ids, calls, strict=True):
        call_rows.append(
            (
                call_id,
                call.hotline,
                call.caller_id,
                call.uniqueid,
                call.channel,
                call.language,
                started(call.started_at),
                started(call.ended_at),
                call.outcome,
                call.last_node,
                call.next_action,
                call.id_hash,
                call.id_masked,
                call.hangup_cause,
                call.hangup_cause_text,
                call.duration_s,
                call.billsec,
            )
        )
        step_rows.extend(
            (call_id, s.seq, at(s.at), s.node, s.kind, s.key, s.detail) for s in call.steps
        )
    return call_rows, step_rows


def _converter(dialect: Dialect, type_: Any) -> Callable[[Any], Any]:
    """The column type's conversion to what the driver stores (SQLite: UTC text; PostgreSQL's
    COPY takes aware datetimes as they are)."""
    if dialect.name != "sqlite":
        return lambda value: value
    process = type_.bind_processor(dialect)
    return (lambda value: value) if process is None else process


async def _copy(
    session: AsyncSession, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    if not rows:
        return
    connection = await session.connection()
    raw = (await connection.get_raw_connection()).driver_connection
    assert raw is not None
    if connection.dialect.name == "sqlite":
        marks = ", ".join("?" * len(columns))
        await raw.executemany(
            f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", rows
        )
    else:
        await raw.copy_records_to_table(table.name, records=rows, columns=list(columns))


def _tally(calls: Sequence[NewCall]) -> Tally:
    tally = Tally()
    for call in calls:
        if call.ended_at is not None:
            tally.add(
                CallEnd(
                    call.hotline,
                    call.started_at,
                    call.ended_at,
                    call.outcome,
                    call.last_node,
                    call.next_action,
                    call.duration_s,
                )
            )
    return tally
