"""What each loss-report step leaves in the tables, on both back-ends: the report row, its card,
its history; a taken reference drawn again; any other conflict writing nothing; a lift and a
formal report at once, one winner."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Row, func, select
from sqlalchemy.exc import IntegrityError

from ivr.domain import cards
from ivr.domain.cards import CardStatus, ReportStatus
from ivr.domain.idnumber import check_character
from ivr.domain.workdays import shipped_calendar
from ivr.store.database import Database
from ivr.store.errors import ReportNotLiftable, ReportStateError
from ivr.store.records import Records, ReportView
from ivr.store.report_rows import CARDS, EVENTS, REPORTS
from tests.store.support import NOW, Person, add_person

LAPSE_DAYS = 10
DAY = timedelta(days=1)
SHIPPED = shipped_calendar()


async def _report_row(db: Database, report_id: int) -> Row[Any]:
    return await db.run_read(
        lambda c: c.execute(select(REPORTS).where(REPORTS.c.id == report_id)).one()
    )


async def _card_row(db: Database, card_id: int) -> Row[Any]:
    return await db.run_read(lambda c: c.execute(select(CARDS).where(CARDS.c.id == card_id)).one())


async def _history(db: Database, report_id: int) -> list[tuple[ReportStatus, str, str, datetime]]:
    rows = await db.run_read(
        lambda c: c.execute(
            select(EVENTS.c.status, EVENTS.c.actor, EVENTS.c.note, EVENTS.c.at)
            .where(EVENTS.c.report_id == report_id)
            .order_by(EVENTS.c.id)
        ).all()
    )
    return [(r.status, r.actor, r.note, r.at) for r in rows]


async def _count(db: Database, table: Any) -> int:
    def count(connection: Connection) -> int:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())

    return await db.run_read(count)


async def _by_phone(
    records: Records, person: Person, *, now: datetime = NOW, call_id: int | None = None
) -> ReportView:
    return await records.report_provisional_loss(
        person.card_id,
        person.citizen_id,
        call_id=call_id,
        now=now,
        lapse_days=LAPSE_DAYS,
        id_hash=person.id_hash,
        id_masked=person.id_masked,
    )


async def _statement(records: Records, person: Person, *, call_id: int | None = None) -> ReportView:
    return await records.report_unverified_loss(
        call_id=call_id,
        now=NOW,
        id_hash=person.id_hash,
        id_masked=person.id_masked,
        recording_id=None,
    )


def _resident(n: int) -> str:
    """The ``n``-th of some valid resident ID numbers."""
    first17 = f"11010519491231{n:03d}"
    return first17 + check_character(first17)


def _draws(*references: str) -> Iterator[str]:
    yield from references
    while True:
        yield cards.new_reference(NOW)


async def test_a_report_by_phone_writes_the_report_the_stopped_card_and_its_history(
    records: Records, db: Database, person: Person
) -> None:
    call_id = (await records.start_call("96102", "1380", "1.1", "PJSIP/x", "zh", NOW)).call_id
    report = await _by_phone(records, person, call_id=call_id)
    row = await _report_row(db, report.id)
    assert (row.reference, row.card_id, row.citizen_id, row.call_id) == (
        report.reference,
        person.card_id,
        person.citizen_id,
        call_id,
    )
    assert (row.id_hash, row.id_masked) == (person.id_hash, person.id_masked)
    assert (row.status, row.verified, row.reported_at, row.updated_at) == (
        ReportStatus.PROVISIONAL,
        True,
        NOW,
        NOW,
    )
    assert row.lapses_on == NOW.date() + timedelta(days=LAPSE_DAYS)
    assert (row.lifted_at, row.formal_at, row.pickup_on, row.statement_recording_id) == (
        None,
        None,
        None,
        None,
    )
    card = await _card_row(db, person.card_id)
    assert (card.status, card.status_since, card.settlement_stopped_at, card.replaced_by_id) == (
        CardStatus.PROVISIONALLY_LOST,
        NOW,
        NOW,
        None,
    )
    assert await _history(db, report.id) == [
        (ReportStatus.PROVISIONAL, "caller", "provisional report by phone", NOW)
    ]


async def test_a_statement_writes_a_report_to_verify_and_leaves_the_card_alone(
    records: Records, db: Database, person: Person
) -> None:
    call_id = (await records.start_call("96102", "1380", "1.2", "PJSIP/x", "zh", NOW)).call_id
    recording_id = await records.add_recording(call_id, "statement", "recordings/s.wav", 4.0)
    report = await records.report_unverified_loss(
        call_id=call_id,
        now=NOW,
        id_hash=person.id_hash,
        id_masked=person.id_masked,
        recording_id=recording_id,
        citizen_id=person.citizen_id,
    )
    row = await _report_row(db, report.id)
    assert (row.status, row.verified, row.card_id, row.citizen_id) == (
        ReportStatus.NEEDS_VERIFICATION,
        False,
        None,
        person.citizen_id,
    )
    assert (row.statement_recording_id, row.lapses_on, row.reported_at) == (recording_id, None, NOW)
    card = await _card_row(db, person.card_id)
    assert (card.status, card.settlement_stopped_at) == (CardStatus.NORMAL, None)
    assert await _history(db, report.id) == [
        (ReportStatus.NEEDS_VERIFICATION, "caller", "statement recorded, needs verification", NOW)
    ]


async def test_a_statement_attached_changes_only_its_recording(
    records: Records, db: Database, person: Person
) -> None:
    report = await _by_phone(records, person)
    before = await _report_row(db, report.id)
    call_id = (await records.start_call("96102", "1380", "1.3", "PJSIP/x", "zh", NOW)).call_id
    recording_id = await records.add_recording(call_id, "statement", "recordings/a.wav", 4.0)
    await records.attach_statement(report.id, recording_id)
    after = await _report_row(db, report.id)
    assert after.statement_recording_id == recording_id
    assert {**after._asdict(), "statement_recording_id": None} == before._asdict()
    assert len(await _history(db, report.id)) == 1


async def test_a_lift_writes_the_lifted_report_and_the_card_back_in_use(
    records: Records, db: Database, person: Person
) -> None:
    report = await _by_phone(records, person)
    later = NOW + 2 * DAY
    lifted = await records.lift_provisional_report(person.card_id, call_id=None, now=later)
    row = await _report_row(db, report.id)
    assert (row.status, row.lifted_at, row.updated_at, row.reported_at) == (
        ReportStatus.LIFTED,
        later,
        later,
        NOW,
    )
    assert lifted.status is ReportStatus.LIFTED
    card = await _card_row(db, person.card_id)
    assert (card.status, card.status_since, card.settlement_stopped_at) == (
        CardStatus.NORMAL,
        later,
        None,
    )
    assert (await _history(db, report.id))[-1] == (
        ReportStatus.LIFTED,
        "caller",
        "lifted at the counter",
        later,
    )


async def test_verification_writes_the_matched_card_on_the_report_and_stops_it(
    records: Records, db: Database, person: Person
) -> None:
    report = await _statement(records, person)
    later = NOW + DAY
    await records.verify_report(
        report.reference, card_id=person.card_id, actor="staff:li", now=later, lapse_days=10
    )
    row = await _report_row(db, report.id)
    assert (row.status, row.verified, row.card_id, row.citizen_id) == (
        ReportStatus.PROVISIONAL,
        True,
        person.card_id,
        person.citizen_id,
    )
    assert (row.lapses_on, row.updated_at, row.reported_at) == (
        later.date() + timedelta(days=10),
        later,
        NOW,
    )
    card = await _card_row(db, person.card_id)
    assert (card.status, card.settlement_stopped_at) == (CardStatus.PROVISIONALLY_LOST, later)
    assert (await _history(db, report.id))[-1] == (
        ReportStatus.PROVISIONAL,
        "staff:li",
        "verified",
        later,
    )


async def test_the_staff_steps_write_each_stamp_and_the_new_card_replaces_the_old(
    records: Records, db: Database, person: Person
) -> None:
    report = await _by_phone(records, person)
    formal_at, made_at, picked_at = NOW + DAY, NOW + 20 * DAY, NOW + 22 * DAY
    await records.record_formal_report(
        report.reference, actor="staff:li", now=formal_at, working_days=15, calendar=SHIPPED
    )
    row = await _report_row(db, report.id)
    assert (row.status, row.formal_at, row.pickup_on) == (
        ReportStatus.FORMAL,
        formal_at,
        date(2025, 3, 25),
    )
    card = await _card_row(db, person.card_id)
    assert (card.status, card.settlement_stopped_at) == (CardStatus.FORMALLY_LOST, NOW)

    await records.mark_card_made(report.reference, actor="staff:li", now=made_at)
    row = await _report_row(db, report.id)
    assert (row.status, row.card_made_at, row.updated_at) == (
        ReportStatus.CARD_MADE,
        made_at,
        made_at,
    )
    card = await _card_row(db, person.card_id)
    assert (card.status, card.status_since) == (CardStatus.READY_FOR_PICKUP, made_at)

    await records.mark_picked_up(report.reference, actor="staff:wang", now=picked_at)
    row = await _report_row(db, report.id)
    assert (row.status, row.picked_up_at) == (ReportStatus.PICKED_UP, picked_at)
    old = await _card_row(db, person.card_id)
    assert old.replaced_by_id is not None
    assert (old.status, old.settlement_stopped_at) == (CardStatus.FORMALLY_LOST, NOW)
    new = await _card_row(db, old.replaced_by_id)
    assert (new.citizen_id, new.status, new.settlement_stopped_at, new.replaced_by_id) == (
        person.citizen_id,
        CardStatus.NORMAL,
        None,
        None,
    )
    assert (new.issued_on, new.status_since) == (picked_at.date(), picked_at)
    assert len(new.number) == 9 and new.number != person.card_number
    assert [(status, actor) for status, actor, _, _ in await _history(db, report.id)] == [
        (ReportStatus.PROVISIONAL, "caller"),
        (ReportStatus.FORMAL, "staff:li"),
        (ReportStatus.CARD_MADE, "staff:li"),
        (ReportStatus.PICKED_UP, "staff:wang"),
    ]


async def test_the_lapse_sweep_writes_the_lapse_and_frees_the_card(
    records: Records, db: Database, person: Person
) -> None:
    report = await _by_phone(records, person)
    due = NOW + LAPSE_DAYS * DAY
    assert await records.lapse_due_reports(now=due) == 1
    row = await _report_row(db, report.id)
    assert (row.status, row.updated_at, row.lifted_at) == (ReportStatus.LAPSED, due, None)
    card = await _card_row(db, person.card_id)
    assert (card.status, card.status_since, card.settlement_stopped_at) == (
        CardStatus.NORMAL,
        due,
        None,
    )
    assert (await _history(db, report.id))[-1] == (
        ReportStatus.LAPSED,
        "system",
        "provisional report lapsed",
        due,
    )


async def test_a_new_report_on_a_card_writes_the_due_lapse_of_the_old_first(
    records: Records, db: Database, person: Person
) -> None:
    old = await _by_phone(records, person)
    due = NOW + LAPSE_DAYS * DAY
    new = await _by_phone(records, person, now=due)
    assert (await _report_row(db, old.id)).status is ReportStatus.LAPSED
    assert (await _history(db, old.id))[-1][:2] == (ReportStatus.LAPSED, "system")
    row = await _report_row(db, new.id)
    assert (row.status, row.reported_at) == (ReportStatus.PROVISIONAL, due)
    card = await _card_row(db, person.card_id)
    assert (card.status, card.settlement_stopped_at) == (CardStatus.PROVISIONALLY_LOST, due)


async def test_a_taken_reference_is_drawn_again(
    records: Records, db: Database, person: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = await add_person(db, "420102197305080012", "123456789")
    first = await _by_phone(records, person)
    draws = _draws(
        first.reference, first.reference, "250303000042", first.reference, "250303000043"
    )
    monkeypatch.setattr(cards, "new_reference", lambda now, rng=None: next(draws))
    second = await _by_phone(records, other)
    statement = await _statement(records, person)
    assert (second.reference, statement.reference) == ("250303000042", "250303000043")
    assert await _count(db, REPORTS) == 3
    assert (await _report_row(db, first.id)).card_id == person.card_id  # untouched
    assert (await _card_row(db, other.card_id)).status is CardStatus.PROVISIONALLY_LOST
    assert len(await _history(db, second.id)) == 1


async def test_no_free_reference_writes_nothing(
    records: Records, db: Database, person: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = await add_person(db, "420102197305080012", "123456789")
    first = await _by_phone(records, person)
    monkeypatch.setattr(cards, "new_reference", lambda now, rng=None: first.reference)
    with pytest.raises(RuntimeError, match="no free loss-report reference"):
        await _by_phone(records, other)
    assert await _count(db, REPORTS) == 1 and await _count(db, EVENTS) == 1
    assert (await _card_row(db, other.card_id)).status is CardStatus.NORMAL


async def test_any_other_conflict_raises_and_writes_nothing(
    records: Records, db: Database, person: Person
) -> None:
    """A report pointing at a call that is not there (a foreign key): not a reference to draw
    again; the error reaches the flow (the caller hears the apology), the card is not stopped."""
    with pytest.raises(IntegrityError):
        await _by_phone(records, person, call_id=999_999)
    with pytest.raises(IntegrityError):
        await _statement(records, person, call_id=999_999)
    assert await _count(db, REPORTS) == 0 and await _count(db, EVENTS) == 0
    card = await _card_row(db, person.card_id)
    assert (card.status, card.settlement_stopped_at) == (CardStatus.NORMAL, None)


async def test_a_lift_and_a_formal_report_at_once_do_not_both_win(
    records: Records, db: Database
) -> None:
    """The caller lifts by phone while staff record the formal report, five times over: each
    time one of them is written, the other refused, and the rows say who won."""
    people = [await add_person(db, _resident(n), f"A1234567{n}") for n in range(5)]
    for person in people:
        report = await _by_phone(records, person)
        later = NOW + DAY
        lift, formal = await asyncio.gather(
            records.lift_provisional_report(person.card_id, call_id=1, now=later),
            records.record_formal_report(
                report.reference, actor="staff:li", now=later, working_days=15, calendar=SHIPPED
            ),
            return_exceptions=True,
        )
        row = await _report_row(db, report.id)
        card = await _card_row(db, person.card_id)
        history = [status for status, _, _, _ in await _history(db, report.id)]
        if isinstance(lift, ReportView):
            assert isinstance(formal, ReportStateError) and formal.status is ReportStatus.LIFTED
            assert (row.status, card.status) == (ReportStatus.LIFTED, CardStatus.NORMAL)
            assert history == [ReportStatus.PROVISIONAL, ReportStatus.LIFTED]
        else:
            assert isinstance(lift, ReportNotLiftable), lift
            assert lift.status is ReportStatus.FORMAL
            assert isinstance(formal, ReportView)
            assert (row.status, card.status) == (ReportStatus.FORMAL, CardStatus.FORMALLY_LOST)
            assert history == [ReportStatus.PROVISIONAL, ReportStatus.FORMAL]
