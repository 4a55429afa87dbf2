"""Cards and loss reports through their whole lifecycle, on both back-ends."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ivr.domain.cards import CardStatus, ReportStatus, Step, StepRefused
from ivr.domain.workdays import shipped_calendar
from ivr.store.database import Database
from ivr.store.errors import CardNotReportable, NotFound, ReportNotLiftable, ReportStateError
from ivr.store.models import Card
from ivr.store.records import Records, ReportView
from tests.store.support import NOW, Person, add_person

LAPSE_DAYS = 10

SHIPPED = shipped_calendar()


async def _report(records: Records, person: Person, call_id: int | None = None) -> ReportView:
    return await records.report_provisional_loss(
        person.card_id,
        person.citizen_id,
        call_id=call_id,
        now=NOW,
        lapse_days=LAPSE_DAYS,
        id_hash=person.id_hash,
        id_masked=person.id_masked,
    )


async def test_provisional_report_stops_the_card_and_lifting_restores_it(
    records: Records, person: Person
) -> None:
    call_id = (
        await records.start_call("96102", "13800000000", "1.1", "PJSIP/x-1", "zh", NOW)
    ).call_id
    report = await _report(records, person, call_id)
    assert report.status is ReportStatus.PROVISIONAL
    assert len(report.reference) == 12 and report.reference.isdigit()
    assert report.lapses_on == NOW.date() + timedelta(days=LAPSE_DAYS)
    card = await records.card_for(person.citizen_id)
    assert card is not None
    assert card.status is CardStatus.PROVISIONALLY_LOST
    assert card.settlement_stopped_at == NOW
    assert await records.open_report_for(person.card_id) == report

    later = NOW + timedelta(days=2)
    lifted = await records.lift_provisional_report(person.card_id, call_id=call_id, now=later)
    assert lifted.status is ReportStatus.LIFTED
    card = await records.card_for(person.citizen_id)
    assert card is not None
    assert (card.status, card.settlement_stopped_at, card.status_since) == (
        CardStatus.NORMAL,
        None,
        later,
    )
    assert await records.open_report_for(person.card_id) is None
    events = await records.report_events(report.reference)
    assert [(e.status, e.actor) for e in events] == [
        (ReportStatus.PROVISIONAL, "caller"),
        (ReportStatus.LIFTED, "caller"),
    ]


async def test_formal_report_card_made_and_picked_up(
    records: Records, db: Database, person: Person
) -> None:
    report = await _report(records, person)
    day = timedelta(days=1)
    formal = await records.record_formal_report(
        report.reference, actor="staff:li", now=NOW + day, working_days=15, calendar=SHIPPED
    )
    assert formal.status is ReportStatus.FORMAL
    assert formal.pickup_on == date(2025, 3, 25)  # 15 working days after Tuesday 4 March
    card = await records.card_for(person.citizen_id)
    assert card is not None and card.status is CardStatus.FORMALLY_LOST
    assert card.settlement_stopped_at == NOW  # stopped since the phone report

    made = await records.mark_card_made(report.reference, actor="staff:li", now=NOW + 20 * day)
    assert made.status is ReportStatus.CARD_MADE
    card = await records.card_for(person.citizen_id)
    assert card is not None and card.status is CardStatus.READY_FOR_PICKUP

    picked = await records.mark_picked_up(report.reference, actor="staff:wang", now=NOW + 22 * day)
    assert picked.status is ReportStatus.PICKED_UP
    new_card = await records.card_for(person.citizen_id)
    assert new_card is not None
    assert new_card.id != person.card_id
    assert new_card.number != person.card_number and len(new_card.number) == 9
    assert new_card.status is CardStatus.NORMAL
    assert new_card.issued_on == (NOW + 22 * day).date()
    assert new_card.settlement_stopped_at is None
    assert await records.open_report_for(person.card_id) is None
    events = await records.report_events(report.reference)
    assert [(e.status, e.actor, e.note) for e in events] == [
        (ReportStatus.PROVISIONAL, "caller", "provisional report by phone"),
        (ReportStatus.FORMAL, "staff:li", "pick-up on 2025-03-25"),
        (ReportStatus.CARD_MADE, "staff:li", "new card ready for pick-up"),
        (ReportStatus.PICKED_UP, "staff:wang", "new card picked up"),
    ]
    async with db.read() as session:
        old_card = await session.get(Card, person.card_id)
    assert old_card is not None and old_card.replaced_by_id == new_card.id
    assert (old_card.status, old_card.settlement_stopped_at) == (CardStatus.FORMALLY_LOST, NOW)
    # The new card can be reported lost in its turn.
    again = await records.report_provisional_loss(
        new_card.id,
        person.citizen_id,
        call_id=None,
        now=NOW + 30 * day,
        lapse_days=LAPSE_DAYS,
        id_hash=person.id_hash,
        id_masked=person.id_masked,
    )
    assert again.reference != report.reference


async def test_a_card_is_not_reportable_twice(records: Records, person: Person) -> None:
    await _report(records, person)
    with pytest.raises(CardNotReportable) as caught:
        await _report(records, person)
    assert caught.value.current_status is CardStatus.PROVISIONALLY_LOST


async def test_lift_only_while_provisional(records: Records, person: Person) -> None:
    with pytest.raises(ReportNotLiftable) as nothing:
        await records.lift_provisional_report(person.card_id, call_id=None, now=NOW)
    assert nothing.value.status is None
    report = await _report(records, person)
    await records.record_formal_report(
        report.reference, actor="staff:li", now=NOW, working_days=15, calendar=SHIPPED
    )
    with pytest.raises(ReportNotLiftable) as formal:
        await records.lift_provisional_report(person.card_id, call_id=None, now=NOW)
    assert formal.value.status is ReportStatus.FORMAL
    card = await records.card_for(person.citizen_id)
    assert card is not None and card.status is CardStatus.FORMALLY_LOST


async def test_a_lapsed_report_cannot_be_lifted_and_frees_the_card(
    records: Records, person: Person
) -> None:
    report = await _report(records, person)
    assert report.lapses_on is not None
    lapse_day = report.lapses_on
    lapsed_at = NOW + timedelta(days=LAPSE_DAYS)
    with pytest.raises(ReportNotLiftable) as caught:
        await records.lift_provisional_report(person.card_id, call_id=None, now=lapsed_at)
    assert caught.value.status is ReportStatus.LAPSED
    assert str(caught.value) == "the report is lapsed: cannot lift it"
    assert isinstance(caught.value.__cause__, StepRefused)
    # Reads with today compute the lapse before any sweep wrote it.
    card = await records.card_for(person.citizen_id, today=lapse_day)
    assert card is not None and card.status is CardStatus.NORMAL
    assert card.settlement_stopped_at is None
    before = await records.card_for(person.citizen_id, today=lapse_day - timedelta(days=1))
    assert before is not None and before.status is CardStatus.PROVISIONALLY_LOST
    assert await records.open_report_for(person.card_id, today=lapse_day) is None
    # The card can be reported again: the old report is written as lapsed on the way.
    again = await records.report_provisional_loss(
        person.card_id,
        person.citizen_id,
        call_id=None,
        now=lapsed_at,
        lapse_days=LAPSE_DAYS,
        id_hash=person.id_hash,
        id_masked=person.id_masked,
    )
    old = await records.find_report(report.reference)
    assert old is not None and old.status is ReportStatus.LAPSED
    assert again.status is ReportStatus.PROVISIONAL
    lapsed = (await records.report_events(report.reference))[-1]
    assert (lapsed.status, lapsed.actor, lapsed.at) == (ReportStatus.LAPSED, "system", lapsed_at)


async def test_a_report_holds_until_the_day_before_its_lapse(
    records: Records, person: Person
) -> None:
    report = await _report(records, person)
    day_before = NOW + timedelta(days=LAPSE_DAYS - 1)
    assert await records.open_report_for(person.card_id, today=day_before.date()) == report
    card = await records.card_for(person.citizen_id, today=day_before.date())
    assert card is not None and card.settlement_stopped_at == NOW
    lifted = await records.lift_provisional_report(person.card_id, call_id=None, now=day_before)
    assert lifted.status is ReportStatus.LIFTED


async def test_a_lapsed_report_cannot_be_formalised_and_nothing_is_written(
    records: Records, person: Person
) -> None:
    report = await _report(records, person)
    with pytest.raises(ReportStateError) as caught:
        await records.record_formal_report(
            report.reference,
            actor="staff:li",
            now=NOW + timedelta(days=LAPSE_DAYS),
            working_days=15,
            calendar=SHIPPED,
        )
    assert (caught.value.step, caught.value.status) == (Step.FORMALISE, ReportStatus.LAPSED)
    assert str(caught.value) == "the report is lapsed: cannot formalise it"
    assert await records.find_report(report.reference) == report
    card = await records.card_for(person.citizen_id)
    assert card is not None and card.status is CardStatus.PROVISIONALLY_LOST
    assert len(await records.report_events(report.reference)) == 1


async def test_lapse_sweep(records: Records, db: Database, person: Person) -> None:
    other = await add_person(db, "420102197305080012", "123456789")
    formal = await add_person(db, "440524188001010014", "B12345678")
    report = await _report(records, person)
    formal_report = await _report(records, formal)
    await records.record_formal_report(
        formal_report.reference, actor="staff:li", now=NOW, working_days=15, calendar=SHIPPED
    )
    assert await records.lapse_due_reports(now=NOW + timedelta(days=LAPSE_DAYS - 1)) == 0
    assert await records.lapse_due_reports(now=NOW + timedelta(days=LAPSE_DAYS)) == 1
    assert await records.lapse_due_reports(now=NOW + timedelta(days=LAPSE_DAYS)) == 0
    card = await records.card_for(person.citizen_id)
    assert card is not None and card.status is CardStatus.NORMAL
    assert card.settlement_stopped_at is None
    events = await records.report_events(report.reference)
    assert [(e.status, e.actor) for e in events][-1] == (ReportStatus.LAPSED, "system")
    untouched = await records.card_for(other.citizen_id)
    assert untouched is not None and untouched.status is CardStatus.NORMAL
    # Only a provisional report lapses: a formal one keeps its past lapse date and its status.
    still_formal = await records.find_report(formal_report.reference)
    assert still_formal is not None and still_formal.status is ReportStatus.FORMAL


async def test_unverified_report_then_staff_verification(records: Records, person: Person) -> None:
    call_id = (
        await records.start_call("96102", "13800000000", "1.2", "PJSIP/x-2", "zh", NOW)
    ).call_id
    recording_id = await records.add_recording(call_id, "statement", "recordings/1.wav", 12.5)
    report = await records.report_unverified_loss(
        call_id=call_id,
        now=NOW,
        id_hash=person.id_hash,
        id_masked=person.id_masked,
        recording_id=recording_id,
    )
    assert report.status is ReportStatus.NEEDS_VERIFICATION
    assert report.card_id is None and not report.verified
    card = await records.card_for(person.citizen_id)
    assert card is not None and card.status is CardStatus.NORMAL  # staff verify first
    with pytest.raises(ReportStateError):
        await records.record_formal_report(
            report.reference, actor="staff:li", now=NOW, working_days=15, calendar=SHIPPED
        )
    for step in (records.mark_card_made, records.mark_picked_up):
        with pytest.raises(ReportStateError) as caught:
            await step(report.reference, actor="staff:li", now=NOW)
        assert caught.value.status is ReportStatus.NEEDS_VERIFICATION
    verified = await records.verify_report(
        report.reference, card_id=person.card_id, actor="staff:li", now=NOW, lapse_days=LAPSE_DAYS
    )
    assert verified.status is ReportStatus.PROVISIONAL and verified.verified
    assert (verified.card_id, verified.lapses_on) == (person.card_id, date(2025, 3, 13))
    card = await records.card_for(person.citizen_id)
    assert card is not None and card.status is CardStatus.PROVISIONALLY_LOST
    assert card.settlement_stopped_at == NOW
    with pytest.raises(ReportStateError) as twice:
        await records.verify_report(
            report.reference, card_id=person.card_id, actor="staff:li", now=NOW, lapse_days=10
        )
    assert twice.value.status is ReportStatus.PROVISIONAL


async def test_verification_needs_a_card_in_normal_use(records: Records, person: Person) -> None:
    await _report(records, person)
    statement = await records.report_unverified_loss(
        call_id=None, now=NOW, id_hash=person.id_hash, id_masked=person.id_masked, recording_id=None
    )
    with pytest.raises(CardNotReportable) as caught:
        await records.verify_report(
            statement.reference, card_id=person.card_id, actor="staff:li", now=NOW, lapse_days=10
        )
    assert caught.value.current_status is CardStatus.PROVISIONALLY_LOST
    unchanged = await records.find_report(statement.reference)
    assert unchanged is not None and unchanged.status is ReportStatus.NEEDS_VERIFICATION
    # Once the phone report has lapsed, verifying records that lapse and stops the card again.
    later = NOW + timedelta(days=LAPSE_DAYS)
    verified = await records.verify_report(
        statement.reference, card_id=person.card_id, actor="staff:li", now=later, lapse_days=10
    )
    assert verified.lapses_on == later.date() + timedelta(days=10)
    card = await records.card_for(person.citizen_id)
    assert card is not None and card.status is CardStatus.PROVISIONALLY_LOST
    assert card.settlement_stopped_at == later


async def test_verification_refuses_another_persons_card(
    records: Records, db: Database, person: Person
) -> None:
    other = await add_person(db, "420102197305080012", "123456789")
    report = await records.report_unverified_loss(
        call_id=None, now=NOW, id_hash=person.id_hash, id_masked=person.id_masked, recording_id=None
    )
    with pytest.raises(ReportStateError, match="another person's"):
        await records.verify_report(
            report.reference, card_id=other.card_id, actor="staff:li", now=NOW, lapse_days=10
        )
    card = await records.card_for(other.citizen_id)
    assert card is not None and card.status is CardStatus.NORMAL


async def test_attach_statement_and_unknown_keys(records: Records, person: Person) -> None:
    report = await _report(records, person)
    call_id = (
        await records.start_call("96102", "13800000000", "1.3", "PJSIP/x-3", "zh", NOW)
    ).call_id
    recording_id = await records.add_recording(call_id, "statement", "recordings/2.wav", 3.0)
    await records.attach_statement(report.id, recording_id)
    with pytest.raises(NotFound):
        await records.attach_statement(report.id + 1000, recording_id)
    with pytest.raises(NotFound):
        await records.mark_card_made("000000000000", actor="staff:li", now=NOW)
    with pytest.raises(NotFound):
        await records.lift_provisional_report(person.card_id + 1000, call_id=None, now=NOW)
    assert await records.card_for(person.citizen_id + 1000) is None
    assert await records.find_report("000000000000") is None
