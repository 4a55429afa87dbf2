"""Calls written in bulk (``hotline db seed --calls``) are stored as the records API stores them,
and the statistics' rollups written with them count exactly what the calls' rows say."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from ivr.domain.clock import day_bounds
from ivr.store.bulk import NewCall, add_calls
from ivr.store.database import Database, open_database, upgrade_database
from ivr.store.models import Call
from ivr.store.records import Records
from ivr.store.rollups import in_progress
from ivr.store.stats import Statistics
from ivr.traffic.month import Traffic, identities, random_ids, write_traffic
from tests.store.direct_stats import count_calls, direct_stats, stored_rollups, tallied_rollups

FIRST, LAST = date(2026, 3, 6), date(2026, 3, 9)  # Friday to Monday: working days and a weekend


def _traffic(calls: int, seed: int = 3) -> Traffic:
    people = identities(b"k" * 32, random_ids(seed, 40))
    return Traffic(calls=calls, first=FIRST, last=LAST, seed=seed, people=people)


async def test_the_rollups_of_a_seeded_month_equal_the_statistics_counted_from_the_calls(
    db: Database,
) -> None:
    assert await write_traffic(db, _traffic(700), batch=150) == 700
    assert await count_calls(db) == 700
    assert await stored_rollups(db) == await tallied_rollups(db)
    stats = Statistics(db)
    for first, last, hotline in (
        (FIRST, LAST, None),
        (FIRST, LAST, "12333"),
        (LAST, LAST, "96102"),
        (FIRST - timedelta(days=3), FIRST, None),
    ):
        assert await stats.call_stats(first, last, hotline=hotline) == await direct_stats(
            db, first, last, hotline
        )


async def test_a_bulk_call_reads_back_as_written_and_the_next_call_gets_a_new_id(
    db: Database,
) -> None:
    calls = _traffic(60).day(LAST)
    ids = await add_calls(db, calls)
    ids += await add_calls(db, _traffic(60, seed=4).day(LAST))
    assert len(set(ids)) == len(ids) == len(calls) * 2
    records = Records(db)
    call: NewCall = calls[-1]
    shown = await records.call_detail(ids[len(calls) - 1])
    assert shown is not None
    assert (shown.caller_id, shown.outcome, shown.id_masked) == (
        call.caller_id,
        call.outcome,
        call.id_masked,
    )
    assert shown.started_at == call.started_at and shown.ended_at == call.ended_at
    assert [(s.node, s.kind, s.key or "", s.detail) for s in shown.path] == [
        (s.node, s.kind, s.key, s.detail) for s in call.steps
    ]
    fresh = (
        await records.start_call(
            "12333", "13800000000", "u-new", "PJSIP/x", "zh", datetime(2026, 3, 10, tzinfo=UTC)
        )
    ).call_id
    assert fresh not in ids


async def test_after_a_bulk_load_sqlite_finds_the_calls_in_progress_by_their_own_index(
    sqlite_url: str,
) -> None:
    """The calls in progress (what the statistics and the call log's count add to the rollups)
    are read by their partial index, with or without a hotline, not by scanning a month of
    calls (ANALYZE leaves an empty index without statistics; an index on the hotline tempts)."""
    await upgrade_database(sqlite_url)
    db = await open_database(sqlite_url)
    try:
        await write_traffic(db, _traffic(3000))
        start, end = day_bounds(FIRST, LAST)
        plans = []
        async with db.read() as session:
            connection = await session.connection()
            for hotline in (None, "12333"):
                running = in_progress(start, end, hotline, sqlite=True)
                query = select(Call.hotline, Call.started_at).where(*running)
                sql = str(query.compile(connection, compile_kwargs={"literal_binds": True}))
                rows = (await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")).all()
                plans.append(" ".join(str(row[-1]) for row in rows))
    finally:
        await db.close()
    assert all("USING INDEX ix_calls_open" in plan for plan in plans), plans
