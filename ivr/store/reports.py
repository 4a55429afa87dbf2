"""Cards and loss reports: the caller's provisional report and its lifting, the staff's steps after.

Lifecycle of a report (``ivr.domain.cards.ReportStatus``)::

    PROVISIONAL --lift--> LIFTED            (card back to normal; only before it lapses)
    PROVISIONAL --lapse-> LAPSED            (by itself after the lapse days; card back to normal)
    PROVISIONAL --formal--> FORMAL --card made--> CARD_MADE --picked up--> PICKED_UP (new card)
    NEEDS_VERIFICATION --staff verify--> PROVISIONAL

Lapsing is computed (``today >= lapses_on``), as in the domain: the reads that take ``today`` and
every write here treat a provisional report past its date as lapsed, even when no sweep
(``lapse_due_reports``) has written it yet. Dates (lapse, pick-up) are taken in ``now``'s time zone,
so pass a local (Asia/Shanghai) ``now``; it is stored in UTC.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.domain.cards import CardStatus, ReportStatus, lapse_date, new_reference, pickup_date
from ivr.store.base import RecordsBase
from ivr.store.cardnumbers import new_card_number
from ivr.store.errors import CardNotReportable, NotFound, ReportNotLiftable, ReportStateError
from ivr.store.models import Card, Citizen, LossReport, ReportEvent
from ivr.store.views import CardView, ReportEventView, ReportView

__all__ = ["OPEN_STATUSES", "CardReports"]

OPEN_STATUSES = (
    ReportStatus.PROVISIONAL,
    ReportStatus.NEEDS_VERIFICATION,
    ReportStatus.FORMAL,
    ReportStatus.CARD_MADE,
)
_ATTEMPTS = 8  # fresh references tried before giving up (a clash is one in a million a day)


class CardReports(RecordsBase):
    # -- reads ---------------------------------------------------------------------------------

    async def card_for(self, citizen_id: int, *, today: date | None = None) -> CardView | None:
        """The citizen's current card (not replaced); with ``today``, a lapsed report has lapsed."""
        async with self.db.read() as session:
            card = await session.scalar(_current_card(citizen_id))
            if card is None:
                return None
            view = card_view(card)
            if today is not None and card.status is CardStatus.PROVISIONALLY_LOST:
                report = await session.scalar(_open_report(card.id))
                if report is not None and _lapsed(report, today):
                    view = _lapsed_card_view(view)
        return view

    async def open_report_for(
        self, card_id: int, *, today: date | None = None
    ) -> ReportView | None:
        """The card's latest report not lifted, lapsed or picked up (``today``: lapse computed)."""
        async with self.db.read() as session:
            report = await session.scalar(_open_report(card_id))
        if report is None or (today is not None and _lapsed(report, today)):
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
        async with self.db.write() as session:
            card = await _lock_card(session, card_id)
            if card.citizen_id != citizen_id:
                raise NotFound("card of citizen", card_id)
            await _apply_lapse(session, card, now)
            if card.replaced_by_id is not None or card.status is not CardStatus.NORMAL:
                raise CardNotReportable(card.status)
            _set_card(card, CardStatus.PROVISIONALLY_LOST, now, stop_settlement=True)
            report = LossReport(
                card_id=card.id,
                citizen_id=citizen_id,
                id_hash=id_hash,
                id_masked=id_masked,
                call_id=call_id,
                status=ReportStatus.PROVISIONAL,
                reported_at=now,
                lapses_on=lapse_date(now.date(), lapse_days),
                verified=True,
                updated_at=now,
            )
            await _insert_report(session, report, now)
            _event(session, report, now, "caller", "provisional report by phone")
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
        report = LossReport(
            card_id=None,
            citizen_id=citizen_id,
            id_hash=id_hash,
            id_masked=id_masked,
            call_id=call_id,
            status=ReportStatus.NEEDS_VERIFICATION,
            reported_at=now,
            lapses_on=None,
            verified=False,
            statement_recording_id=recording_id,
            updated_at=now,
        )
        async with self.db.write() as session:
            await _insert_report(session, report, now)
            _event(session, report, now, "caller", "statement recorded, needs verification")
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
        async with self.db.write() as session:
            card = await _lock_card(session, card_id)
            report = await session.scalar(_open_report(card_id).with_for_update())
            if report is None:
                raise ReportNotLiftable(None)
            if _lapsed(report, now.date()):
                raise ReportNotLiftable(ReportStatus.LAPSED)
            if report.status is not ReportStatus.PROVISIONAL:
                raise ReportNotLiftable(report.status)
            _set_card(card, CardStatus.NORMAL, now, stop_settlement=False)
            report.status = ReportStatus.LIFTED
            report.lifted_at = now
            report.updated_at = now
            note = "lifted by phone" if call_id is not None else "lifted at the counter"
            _event(session, report, now, actor, note)
            return _report_view(report)

    # -- staff steps (supervisor console) ------------------------------------------------------

    async def verify_report(
        self, reference: str, *, card_id: int, actor: str, now: datetime, lapse_days: int
    ) -> ReportView:
        """Staff matched an unverified report to a card of the same person: now provisional."""
        async with self.db.write() as session:
            report = await _lock_report(session, reference)
            if report.status is not ReportStatus.NEEDS_VERIFICATION:
                raise ReportStateError(report.status, "verify")
            card = await _lock_card(session, card_id)
            owner = await session.get(Citizen, card.citizen_id)
            if owner is None or owner.id_hash != report.id_hash:
                raise ReportStateError(report.status, "verify against another person's card")
            await _apply_lapse(session, card, now)
            if card.replaced_by_id is not None or card.status is not CardStatus.NORMAL:
                raise CardNotReportable(card.status)
            _set_card(card, CardStatus.PROVISIONALLY_LOST, now, stop_settlement=True)
            report.card_id = card.id
            report.citizen_id = card.citizen_id
            report.verified = True
            report.status = ReportStatus.PROVISIONAL
            report.lapses_on = lapse_date(now.date(), lapse_days)
            report.updated_at = now
            _event(session, report, now, actor, "verified")
            return _report_view(report)

    async def record_formal_report(
        self, reference: str, *, actor: str, now: datetime, working_days: int
    ) -> ReportView:
        """The formal report at a service point: the card is dead, a new one is made."""
        async with self.db.write() as session:
            report = await _lock_report(session, reference)
            if report.status is not ReportStatus.PROVISIONAL or _lapsed(report, now.date()):
                raise ReportStateError(_effective(report, now.date()), "formalise")
            card = await _lock_card(session, _card_id(report))
            _set_card(card, CardStatus.FORMALLY_LOST, now, stop_settlement=True)
            report.status = ReportStatus.FORMAL
            report.formal_at = now
            report.verified = True
            report.pickup_on = pickup_date(now.date(), working_days)
            report.updated_at = now
            _event(session, report, now, actor, f"pick-up on {report.pickup_on.isoformat()}")
            return _report_view(report)

    async def mark_card_made(self, reference: str, *, actor: str, now: datetime) -> ReportView:
        async with self.db.write() as session:
            report = await _lock_report(session, reference)
            if report.status is not ReportStatus.FORMAL:
                raise ReportStateError(report.status, "mark made")
            card = await _lock_card(session, _card_id(report))
            _set_card(card, CardStatus.READY_FOR_PICKUP, now, stop_settlement=True)
            report.status = ReportStatus.CARD_MADE
            report.card_made_at = now
            report.updated_at = now
            _event(session, report, now, actor, "new card ready for pick-up")
            return _report_view(report)

    async def mark_picked_up(self, reference: str, *, actor: str, now: datetime) -> ReportView:
        """The new card (new number, normal) replaces the lost one."""
        async with self.db.write() as session:
            report = await _lock_report(session, reference)
            if report.status is not ReportStatus.CARD_MADE:
                raise ReportStateError(report.status, "mark picked up")
            old = await _lock_card(session, _card_id(report))
            new = Card(
                citizen_id=old.citizen_id,
                number=await _unused_card_number(session),
                status=CardStatus.NORMAL,
                status_since=now,
                issued_on=now.date(),
            )
            session.add(new)
            await session.flush()
            _set_card(old, CardStatus.FORMALLY_LOST, now, stop_settlement=True)
            old.replaced_by_id = new.id
            report.status = ReportStatus.PICKED_UP
            report.picked_up_at = now
            report.updated_at = now
            _event(session, report, now, actor, "new card picked up")
            return _report_view(report)

    async def lapse_due_reports(self, *, now: datetime) -> int:
        """Write LAPSED for every provisional report past its date (cards back to normal)."""
        async with self.db.write() as session:
            due = list(
                await session.scalars(
                    select(LossReport)
                    .where(
                        LossReport.status == ReportStatus.PROVISIONAL,
                        LossReport.lapses_on <= now.date(),
                    )
                    .with_for_update()
                )
            )
            for report in due:
                card = await session.get(Card, report.card_id) if report.card_id else None
                _lapse(session, report, card, now)
            return len(due)


# -- helpers -----------------------------------------------------------------------------------


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
        .where(LossReport.card_id == card_id, LossReport.status.in_(OPEN_STATUSES))
        .order_by(LossReport.reported_at.desc(), LossReport.id.desc())
        .limit(1)
    )


def _by_reference(reference: str) -> Select[LossReport]:
    return select(LossReport).where(LossReport.reference == reference)


def _lapsed(report: LossReport, today: date) -> bool:
    return (
        report.status is ReportStatus.PROVISIONAL
        and report.lapses_on is not None
        and today >= report.lapses_on
    )


def _effective(report: LossReport, today: date) -> ReportStatus:
    return ReportStatus.LAPSED if _lapsed(report, today) else report.status


def _card_id(report: LossReport) -> int:
    if report.card_id is None:
        raise ReportStateError(report.status, "continue (no card verified yet) with")
    return report.card_id


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


def _set_card(card: Card, status: CardStatus, now: datetime, *, stop_settlement: bool) -> None:
    card.status = status
    card.status_since = now
    if not stop_settlement:
        card.settlement_stopped_at = None
    elif card.settlement_stopped_at is None:
        card.settlement_stopped_at = now


def _event(session: AsyncSession, report: LossReport, now: datetime, actor: str, note: str) -> None:
    session.add(
        ReportEvent(report_id=report.id, at=now, status=report.status, actor=actor, note=note)
    )


def _lapse(session: AsyncSession, report: LossReport, card: Card | None, now: datetime) -> None:
    report.status = ReportStatus.LAPSED
    report.updated_at = now
    _event(session, report, now, "system", "provisional report lapsed")
    if card is not None and card.status is CardStatus.PROVISIONALLY_LOST:
        _set_card(card, CardStatus.NORMAL, now, stop_settlement=False)


async def _apply_lapse(session: AsyncSession, card: Card, now: datetime) -> None:
    """Write the lapse of the card's provisional report if it is due (before acting on the card)."""
    if card.status is not CardStatus.PROVISIONALLY_LOST:
        return
    report = await session.scalar(_open_report(card.id).with_for_update())
    if report is not None and _lapsed(report, now.date()):
        _lapse(session, report, card, now)


async def _insert_report(session: AsyncSession, report: LossReport, now: datetime) -> None:
    """Insert with a fresh reference, retrying in a savepoint on the rare clash."""
    await session.flush()  # earlier changes (the card) outside the savepoint
    for _ in range(_ATTEMPTS):
        report.reference = new_reference(now)
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


def card_view(card: Card) -> CardView:
    return CardView(
        id=card.id,
        citizen_id=card.citizen_id,
        number=card.number,
        status=card.status,
        status_since=card.status_since,
        settlement_stopped_at=card.settlement_stopped_at,
        issued_on=card.issued_on,
    )


def _lapsed_card_view(view: CardView) -> CardView:
    return replace(view, status=CardStatus.NORMAL, settlement_stopped_at=None)


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
