"""Cards and loss reports: the caller's provisional report and its lifting, the staff's steps after.

Every step loads and locks its rows, asks the domain (``ivr.domain.cards``) what the step does,
and writes exactly that: the report, its card and a line in the report's history, in one
transaction. The rules themselves (which step is allowed from which status, the card status and
settlement that go with it, the lapse and pick-up dates) live only in the domain.

A provisional report lapses by itself on its date: reads given ``today`` and every write see it
lapsed at once; a write on its card records the lapse first. Dates (lapse, pick-up) are taken in
``now``'s time zone, so pass a local (Asia/Shanghai) ``now``; it is stored in UTC.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.domain import cards
from ivr.domain.cards import Decision, Step, StepRefused
from ivr.domain.workdays import WorkCalendar
from ivr.store.base import RecordsBase
from ivr.store.cardnumbers import new_card_number
from ivr.store.errors import NotFound, refusals_as_store_errors
from ivr.store.models import Card, Citizen, LossReport, ReportEvent
from ivr.store.views import CardView, ReportEventView, ReportView

__all__ = [
    "CardReports",
    "apply_decision",
    "card_state",
    "card_view",
    "history_event",
    "report_state",
]

_ATTEMPTS = 8  # fresh references tried before giving up (a clash is one in a million a day)


class CardReports(RecordsBase):
    # -- reads ---------------------------------------------------------------------------------

    async def card_for(self, citizen_id: int, *, today: date | None = None) -> CardView | None:
        """The citizen's current card (not replaced); with ``today``, as a lapse has left it."""
        async with self.db.read() as session:
            card = await session.scalar(_current_card(citizen_id))
            if card is None:
                return None
            state = card_state(card)
            if today is not None:
                report = await session.scalar(_open_report(card.id))
                state = cards.card_as_of(state, _report_state_or_none(report), today)
        return card_view(card, state)

    async def open_report_for(
        self, card_id: int, *, today: date | None = None
    ) -> ReportView | None:
        """The card's latest report not lifted, lapsed or picked up (``today``: lapse computed)."""
        async with self.db.read() as session:
            report = await session.scalar(_open_report(card_id))
        if report is None or (today is not None and cards.lapse_due(report_state(report), today)):
            return None
        return _report_view(report)

    async def find_report(self, reference: str) -> ReportView | None:
        async with self.db.read() as session:
            report = await session.scalar(_by_reference(reference))
        return None if report is None else _report_view(report)

    async def report_events(self, reference: str) -> list[ReportEventView]:
        async with self.db.read() as session:
            report = await session.scalar(_by_reference(reference))
            if report is None:
                raise NotFound("loss report", reference)
            events = await session.scalars(
                select(ReportEvent)
                .where(ReportEvent.report_id == report.id)
                .order_by(ReportEvent.at, ReportEvent.id)
            )
            return [
                ReportEventView(at=e.at, status=e.status, actor=e.actor, note=e.note)
                for e in events
            ]

    # -- the caller's steps --------------------------------------------------------------------

    async def report_provisional_loss(
        self,
        card_id: int,
        citizen_id: int,
        *,
        call_id: int | None,
        now: datetime,
        lapse_days: int,
        id_hash: str,
        id_masked: str,
    ) -> ReportView:
        """Stop the card at once, open a provisional report; ``CardNotReportable`` unless normal."""
        with refusals_as_store_errors():
            async with self.db.write() as session:
                card = await _lock_card(session, card_id)
                if card.citizen_id != citizen_id:
                    raise NotFound("card of citizen", card_id)
                await _record_due_lapse(session, card, now)
                decision = cards.report_by_phone(card_state(card), now=now, lapse_days=lapse_days)
                report = LossReport(
                    card_id=card.id,
                    citizen_id=citizen_id,
                    id_hash=id_hash,
                    id_masked=id_masked,
                    call_id=call_id,
                )
                apply_decision(report, card, decision, now)
                await _insert_report(session, report, now)
                session.add(history_event(report, decision, "caller", now))
                return _report_view(report)

    async def report_unverified_loss(
        self,
        *,
        call_id: int | None,
        now: datetime,
        id_hash: str,
        id_masked: str,
        recording_id: int | None,
        citizen_id: int | None = None,
    ) -> ReportView:
        """A report staff must verify first (card unknown or identity unproven); no card change."""
        decision = cards.report_by_statement()
        report = LossReport(
            card_id=None,
            citizen_id=citizen_id,
            id_hash=id_hash,
            id_masked=id_masked,
            call_id=call_id,
            statement_recording_id=recording_id,
        )
        apply_decision(report, None, decision, now)
        async with self.db.write() as session:
            await _insert_report(session, report, now)
            session.add(history_event(report, decision, "caller", now))
            return _report_view(report)

    async def attach_statement(self, report_id: int, recording_id: int) -> None:
        async with self.db.write() as session:
            report = await session.get(LossReport, report_id, with_for_update=True)
            if report is None:
                raise NotFound("loss report", report_id)
            report.statement_recording_id = recording_id

    async def lift_provisional_report(
        self, card_id: int, *, call_id: int | None, now: datetime, actor: str = "caller"
    ) -> ReportView:
        """The card was found: back to normal; ``ReportNotLiftable`` unless provisional."""
        with refusals_as_store_errors():
            async with self.db.write() as session:
                card = await _lock_card(session, card_id)
                report = await session.scalar(_open_report(card_id).with_for_update())
                if report is None:
                    raise StepRefused(Step.LIFT, None)
                decision = cards.lift(
                    report_state(report), card_state(card), now=now, by_phone=call_id is not None
                )
                return _record(session, report, card, decision, actor, now)

    # -- staff steps (supervisor console) ------------------------------------------------------

    async def verify_report(
        self, reference: str, *, card_id: int, actor: str, now: datetime, lapse_days: int
    ) -> ReportView:
        """Staff matched an unverified report to a card of the same person: now provisional."""
        with refusals_as_store_errors():
            async with self.db.write() as session:
                report = await _lock_report(session, reference)
                card = await _lock_card(session, card_id)
                owner = await session.get(Citizen, card.citizen_id)
                await _record_due_lapse(session, card, now)
                decision = cards.verify(
                    report_state(report),
                    card_state(card),
                    same_person=owner is not None and owner.id_hash == report.id_hash,
                    now=now,
                    lapse_days=lapse_days,
                )
                report.card_id = card.id
                report.citizen_id = card.citizen_id
                return _record(session, report, card, decision, actor, now)

    async def record_formal_report(
        self,
        reference: str,
        *,
        actor: str,
        now: datetime,
        working_days: int,
        calendar: WorkCalendar,
    ) -> ReportView:
        """The formal report at a service point: the card is dead, a new one is made."""
        with refusals_as_store_errors():
            async with self.db.write() as session:
                report = await _lock_report(session, reference)
                card = await _lock_report_card(session, report)
                decision = cards.formalise(
                    report_state(report),
                    _card_state_or_none(card),
                    now=now,
                    calendar=calendar,
                    working_days=working_days,
                )
                return _record(session, report, card, decision, actor, now)

    async def mark_card_made(self, reference: str, *, actor: str, now: datetime) -> ReportView:
        with refusals_as_store_errors():
            async with self.db.write() as session:
                report = await _lock_report(session, reference)
                card = await _lock_report_card(session, report)
                decision = cards.mark_card_made(
                    report_state(report), _card_state_or_none(card), now=now
                )
                return _record(session, report, card, decision, actor, now)

    async def mark_picked_up(self, reference: str, *, actor: str, now: datetime) -> ReportView:
        """The new card (new number, normal) replaces the lost one."""
        with refusals_as_store_errors():
            async with self.db.write() as session:
                report = await _lock_report(session, reference)
                card = await _lock_report_card(session, report)
                decision = cards.mark_picked_up(
                    report_state(report), _card_state_or_none(card), now=now
                )
                if card is not None and decision.new_card is not None:
                    await _issue_replacement(session, card, decision.new_card, now)
                return _record(session, report, card, decision, actor, now)

    async def lapse_due_reports(self, *, now: datetime) -> int:
        """Write down every lapse that is due (reads and writes see them already)."""
        async with self.db.write() as session:
            provisional = await session.scalars(
                select(LossReport)
                .where(LossReport.status == cards.STEPS[Step.LAPSE].allowed_from)
                .with_for_update()
            )
            due = [r for r in provisional if cards.lapse_due(report_state(r), now.date())]
            for report in due:
                card = await _lock_report_card(session, report)
                decision = cards.lapse(
                    report_state(report), _card_state_or_none(card), today=now.date()
                )
                _record(session, report, card, decision, "system", now)
            return len(due)


# -- what the domain decided, written to the rows ----------------------------------------------


def report_state(report: LossReport) -> cards.ReportState:
    return cards.ReportState(report.status, report.lapses_on)


def card_state(card: Card) -> cards.CardState:
    return cards.CardState(
        card.status, card.settlement_stopped_at, in_use=card.replaced_by_id is None
    )


def _report_state_or_none(report: LossReport | None) -> cards.ReportState | None:
    return None if report is None else report_state(report)


def _card_state_or_none(card: Card | None) -> cards.CardState | None:
    return None if card is None else card_state(card)


def apply_decision(
    report: LossReport, card: Card | None, decision: Decision, now: datetime
) -> None:
    """Write the decision onto the report and its card, stamped ``now`` (no history line)."""
    report.status = decision.status
    report.verified = decision.verified
    report.updated_at = now
    if decision.lapses_on is not None:
        report.lapses_on = decision.lapses_on
    if decision.pickup_on is not None:
        report.pickup_on = decision.pickup_on
    _stamp(report, decision.step, now)
    if card is not None and decision.card is not None:
        card.status = decision.card.status
        card.status_since = now
        card.settlement_stopped_at = decision.card.settlement_stopped_at


def history_event(report: LossReport, decision: Decision, actor: str, now: datetime) -> ReportEvent:
    """The decision's line in the report's history (the report must have its id)."""
    return ReportEvent(
        report_id=report.id, at=now, status=decision.status, actor=actor, note=decision.note
    )


def _stamp(report: LossReport, step: Step, now: datetime) -> None:
    """The column that keeps when the step was taken."""
    match step:
        case Step.REPORT | Step.REPORT_UNVERIFIED:
            report.reported_at = now
        case Step.LIFT:
            report.lifted_at = now
        case Step.FORMALISE:
            report.formal_at = now
        case Step.CARD_MADE:
            report.card_made_at = now
        case Step.PICKED_UP:
            report.picked_up_at = now
        case Step.VERIFY | Step.LAPSE:
            pass  # the history line is the record


def _record(
    session: AsyncSession,
    report: LossReport,
    card: Card | None,
    decision: Decision,
    actor: str,
    now: datetime,
) -> ReportView:
    apply_decision(report, card, decision, now)
    session.add(history_event(report, decision, actor, now))
    return _report_view(report)


async def _record_due_lapse(session: AsyncSession, card: Card, now: datetime) -> None:
    """Record the lapse of the card's report if it is due, before a new report on the card."""
    report = await session.scalar(_open_report(card.id).with_for_update())
    if report is not None and cards.lapse_due(report_state(report), now.date()):
        decision = cards.lapse(report_state(report), card_state(card), today=now.date())
        _record(session, report, card, decision, "system", now)


async def _issue_replacement(
    session: AsyncSession, old: Card, new_state: cards.CardState, now: datetime
) -> None:
    new = Card(
        citizen_id=old.citizen_id,
        number=await _unused_card_number(session),
        status=new_state.status,
        settlement_stopped_at=new_state.settlement_stopped_at,
        status_since=now,
        issued_on=now.date(),
    )
    session.add(new)
    await session.flush()
    old.replaced_by_id = new.id


# -- queries and locks ---------------------------------------------------------------------------


def _current_card(citizen_id: int) -> Select[Card]:
    return (
        select(Card)
        .where(Card.citizen_id == citizen_id, Card.replaced_by_id.is_(None))
        .order_by(Card.id.desc())
        .limit(1)
    )


def _open_report(card_id: int) -> Select[LossReport]:
    return (
        select(LossReport)
        .where(LossReport.card_id == card_id, LossReport.status.in_(cards.OPEN_STATUSES))
        .order_by(LossReport.reported_at.desc(), LossReport.id.desc())
        .limit(1)
    )


def _by_reference(reference: str) -> Select[LossReport]:
    return select(LossReport).where(LossReport.reference == reference)


async def _lock_card(session: AsyncSession, card_id: int) -> Card:
    card = await session.get(Card, card_id, with_for_update=True)
    if card is None:
        raise NotFound("card", card_id)
    return card


async def _lock_report(session: AsyncSession, reference: str) -> LossReport:
    report = await session.scalar(_by_reference(reference).with_for_update())
    if report is None:
        raise NotFound("loss report", reference)
    return report


async def _lock_report_card(session: AsyncSession, report: LossReport) -> Card | None:
    """The report's card, locked; None before staff verified a report by statement."""
    if report.card_id is None:
        return None
    return await _lock_card(session, report.card_id)


async def _insert_report(session: AsyncSession, report: LossReport, now: datetime) -> None:
    """Insert with a fresh reference, retrying in a savepoint on the rare clash."""
    await session.flush()  # earlier changes (the card) outside the savepoint
    for _ in range(_ATTEMPTS):
        report.reference = cards.new_reference(now)
        try:
            async with session.begin_nested():
                session.add(report)
                await session.flush()
            return
        except IntegrityError:
            continue
    raise RuntimeError("no free loss-report reference found")


async def _unused_card_number(session: AsyncSession) -> str:
    for _ in range(_ATTEMPTS):
        number = new_card_number()
        if await session.scalar(select(Card.id).where(Card.number == number)) is None:
            return number
    raise RuntimeError("no free card number found")


# -- views ---------------------------------------------------------------------------------------


def card_view(card: Card, state: cards.CardState | None = None) -> CardView:
    """The card as stored, or as ``state`` says it stands (a lapse not written down yet)."""
    state = state or card_state(card)
    return CardView(
        id=card.id,
        citizen_id=card.citizen_id,
        number=card.number,
        status=state.status,
        status_since=card.status_since,
        settlement_stopped_at=state.settlement_stopped_at,
        issued_on=card.issued_on,
    )


def _report_view(report: LossReport) -> ReportView:
    return ReportView(
        id=report.id,
        reference=report.reference,
        status=report.status,
        reported_at=report.reported_at,
        lapses_on=report.lapses_on,
        pickup_on=report.pickup_on,
        card_id=report.card_id,
        id_masked=report.id_masked,
        verified=report.verified,
    )
