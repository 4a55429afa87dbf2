"""The call log: calls, their steps in order, hang-up facts, balances asked, concurrency."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ivr.store.database import Database, open_database, upgrade_database
from ivr.store.errors import NotFound
from ivr.store.models import (
    BalanceQuery,
    CallStep,
    ContributionRecord,
    MedicalAccount,
    PensionAccount,
    VoiceMessage,
)
from ivr.store.records import Records, StepRecord
from tests.store.support import NOW, Person

SECOND = timedelta(seconds=1)


def _steps(count: int) -> list[StepRecord]:
    return [
        StepRecord(seq=i, at=NOW + i * SECOND, node=f"node{i}", kind="input", key=str(i % 10))
        for i in range(count)
    ]


async def _call(records: Records, uniqueid: str, hotline: str = "12333", minutes: int = 0) -> int:
    return (
        await records.start_call(
            hotline,
            "13800000000",
            uniqueid,
            "PJSIP/demo-0001",
            "zh",
            NOW + timedelta(minutes=minutes),
        )
    ).call_id


async def test_finish_call_writes_steps_and_recent_calls_returns_the_path(
    records: Records,
) -> None:
    first = await _call(records, "1700000000.1")
    second = await _call(records, "1700000000.2", hotline="96102", minutes=1)
    steps = [
        StepRecord(seq=0, at=NOW, node="welcome", kind="prompt"),
        StepRecord(seq=1, at=NOW + SECOND, node="main", kind="input", key="1"),
        StepRecord(seq=2, at=NOW + 2 * SECOND, node="id", kind="input", key="***", detail="ok"),
        StepRecord(seq=3, at=NOW + 3 * SECOND, node="pension", kind="say", detail="balance"),
    ]
    await records.finish_call(
        first,
        ended_at=NOW + 10 * SECOND,
        outcome="served",
        last_node="pension",
        next_action="hangup",
        language="zh",
        id_hash="a" * 64,
        id_masked="110105********002X",
        steps=list(reversed(steps)),  # the order comes from seq
    )
    calls = await records.recent_calls()
    assert [c.id for c in calls] == [second, first]  # newest first
    done = calls[1]
    assert (done.outcome, done.last_node, done.next_action) == ("served", "pension", "hangup")
    assert done.id_masked == "110105********002X"
    assert done.duration == 10.0
    assert [(s.node, s.key, s.kind) for s in done.path] == [
        ("welcome", None, "prompt"),
        ("main", "1", "input"),
        ("id", "***", "input"),
        ("pension", None, "say"),
    ]
    assert calls[0].outcome is None and calls[0].path == [] and calls[0].duration is None
    only_96102 = await records.recent_calls(hotline="96102")
    assert [c.id for c in only_96102] == [second]
    assert len(await records.recent_calls(limit=1)) == 1
    detail = await records.call_detail(first)
    assert detail is not None and detail.path == done.path
    assert await records.call_detail(first + 1000) is None


async def test_complete_hangup_updates_the_latest_call(records: Records) -> None:
    call_id = await _call(records, "1700000000.9")
    assert await records.complete_hangup(
        "1700000000.9", cause=16, cause_text="Normal Clearing", duration_s=42, billsec=40
    )
    assert not await records.complete_hangup(
        "nope", cause=16, cause_text="Normal Clearing", duration_s=1, billsec=1
    )
    detail = await records.call_detail(call_id)
    assert detail is not None
    assert (detail.hangup_cause, detail.hangup_cause_text, detail.duration_s, detail.billsec) == (
        16,
        "Normal Clearing",
        42,
        40,
    )
    assert detail.duration == 42.0


async def test_finish_unknown_call(records: Records) -> None:
    with pytest.raises(NotFound):
        await records.finish_call(
            12345,
            ended_at=NOW,
            outcome="error",
            last_node=None,
            next_action=None,
            language="zh",
            id_hash=None,
            id_masked=None,
            steps=[],
        )


async def test_balances_are_read_and_each_query_logged(
    records: Records, db: Database, person: Person
) -> None:
    async with db.write() as session:
        session.add(PensionAccount(citizen_id=person.citizen_id, balance=Decimal("81234.56")))
        session.add(
            MedicalAccount(
                citizen_id=person.citizen_id,
                balance=Decimal("3020.10"),
                last_credit_amount=Decimal("220.00"),
                last_credit_on=NOW.date(),
            )
        )
        session.add(
            ContributionRecord(
                citizen_id=person.citizen_id,
                insured_status="active",
                last_paid_month=NOW.date().replace(day=1),
                contribution_base=Decimal("11000.00"),
                months_paid=123,
            )
        )
    call_id = await _call(records, "1700000001.1")
    assert await records.pension_balance(person.citizen_id, call_id=call_id) == Decimal("81234.56")
    medical = await records.medical_account(person.citizen_id, call_id=call_id)
    assert (medical.balance, medical.last_credit_amount) == (Decimal("3020.10"), Decimal("220.00"))
    contributions = await records.contributions(person.citizen_id, call_id=call_id)
    assert contributions.months_paid == 123
    assert contributions.contribution_base == Decimal("11000.00")
    # Each answer comes with its row in the query log already written (nothing is left to settle).
    async with db.read() as session:
        logged = await session.scalars(select(BalanceQuery.kind).order_by(BalanceQuery.id))
        kinds = list(logged)
    assert kinds == ["pension", "medical", "contributions"]
    with pytest.raises(NotFound):
        await records.pension_balance(person.citizen_id + 1000, call_id=call_id)
    async with db.read() as session:  # a query with no answer is not logged as answered
        assert await session.scalar(select(func.count()).select_from(BalanceQuery)) == 3


async def test_no_balance_is_given_without_its_row_in_the_query_log(
    records: Records, db: Database, person: Person
) -> None:
    """The query log refuses the row (here a call that does not exist): the caller gets no
    figure (the flow apologises), and nothing is half-written."""
    async with db.write() as session:
        session.add(PensionAccount(citizen_id=person.citizen_id, balance=Decimal("81234.56")))
    with pytest.raises(IntegrityError):
        await records.pension_balance(person.citizen_id, call_id=999_999)
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(BalanceQuery)) == 0


async def test_recordings_and_voice_messages(records: Records, db: Database) -> None:
    call_id = await _call(records, "1700000002.1")
    recording_id = await records.add_recording(call_id, "voice_message", "recordings/v.wav", 8.2)
    message_id = await records.add_voice_message(call_id, recording_id, "13900000000")
    await records.set_callback_number(message_id, "01012345678")
    async with db.read() as session:
        message = await session.get(VoiceMessage, message_id)
    assert message is not None and message.callback_number == "01012345678"
    with pytest.raises(NotFound):
        await records.set_callback_number(message_id + 1000, "1")


async def test_200_concurrent_calls_on_sqlite(sqlite_url: str) -> None:
    await upgrade_database(sqlite_url)
    db = await open_database(sqlite_url)
    records = Records(db)
    try:

        async def one_call(n: int) -> int:
            call_id = await _call(records, f"1700000100.{n}")
            await asyncio.sleep(0)
            await records.finish_call(
                call_id,
                ended_at=NOW + SECOND,
                outcome="served",
                last_node="end",
                next_action="hangup",
                language="zh",
                id_hash=None,
                id_masked=None,
                steps=_steps(5),
            )
            return call_id

        ids = await asyncio.gather(*(one_call(n) for n in range(200)))
        assert len(set(ids)) == 200
        async with db.read() as session:
            assert await session.scalar(select(func.count()).select_from(CallStep)) == 1000
        calls = await records.recent_calls(limit=500)
        assert len(calls) == 200
        assert all(c.outcome == "served" and len(c.path) == 5 for c in calls)
    finally:
        await db.close()


async def test_a_uniqueid_longer_than_its_column_keeps_the_call(
    records: Records, db: Database
) -> None:
    """A uniqueid comes from the wire: a long one (Asterisk allows 150 characters) is cut to its
    column, the call is recorded on PostgreSQL as on SQLite, and Asterisk's hang-up finds it."""
    uniqueid = "1700000000." + "7" * 140
    call_id = await _call(records, uniqueid)
    assert await records.complete_hangup(
        uniqueid, cause=16, cause_text="Normal Clearing", duration_s=5, billsec=4
    )
    stored = await records.call_detail(call_id)
    assert stored is not None and stored.hangup_cause == 16
    assert uniqueid.startswith(stored.uniqueid) and len(stored.uniqueid) == 40
