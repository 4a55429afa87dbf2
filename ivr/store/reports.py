"""Cards and loss reports: the caller's provisional report and its lifting, the staff's steps after.

Every step is one transaction, a plain function of its connection (``Database.run_write``, Core
statements built once here): it loads and locks its rows, asks the domain (``ivr.domain.cards``)
what the step does, and writes exactly that (``ivr.store.report_rows``: the report, its card and
a line in the report's history). On PostgreSQL the rows a step reads to decide are locked
(``SELECT ... FOR UPDATE``) until it commits, reports always before cards (two steps on one
report at once queue, they cannot deadlock); on SQLite writers take turns anyway. The rules
themselves (which step is allowed from which status, the card status and settlement that go with
it, the lapse and pick-up dates) live only in the domain.

A provisional report lapses by itself on its date: reads given ``today`` and every write see it
lapsed at once; a write on its card records the lapse first. Dates (lapse, pick-up) are taken in
``now``'s time zone, so pass a local (Asia/Shanghai) ``now``; it is stored in UTC.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import partial
from typing import Any, Protocol

from sqlalchemy import Connection, Row, bindparam, insert, select, update

from ivr.domain import cards
from ivr.domain.cards import Step, StepRefused
from ivr.domain.workdays import WorkCalendar
from ivr.store.base import RecordsBase
from ivr.store.cardnumbers import new_card_number
from ivr.store.errors import NotFound, refusals_as_store_errors
from ivr.store.models import Citizen, table_of
from ivr.store.report_rows import (
    CARDS,
    EVENTS,
    REPORTS,
    StoredCard,
    apply_decision,
    card_state,
    open_report,
    report_state,
)
from ivr.store.views import CardView, ReportEventView, ReportView

__all__ = ["CardReports", "card_view"]

_CARD_NUMBER_ATTEMPTS = 8  # fresh card numbers tried before giving up


class CardReports(RecordsBase):
    # -- reads ---------------------------------------------------------------------------------

    async def card_for(self, citizen_id: int, *, today: date | None = None) -> CardView | None:
        """The citizen's current card (not replaced); with ``today``, as a lapse has left it."""

        def read(connection: Connection) -> CardView | None:
            card = connection.execute(_CURRENT_CARD, {"citizen_id": citizen_id}).one_or_none()
            if card is None:
                return None
            state = card_state(card)
            if today is not None:
                report = connection.execute(_OPEN_REPORT, {"card_id": card.id}).one_or_none()
                state = cards.card_as_of(state, _report_state_or_none(report), today)
            return card_view(card, state)

        return await self.db.run_read(read)

    async def open_report_for(
        self, card_id: int, *, today: date | None = None
    ) -> ReportView | None:
        """The card's latest report not lifted, lapsed or picked up (``today``: lapse computed)."""
        report = await self.db.run_read(
            lambda connection: connection.execute(_OPEN_REPORT, {"card_id": card_id}).one_or_none()
        )
        if report is None or (today is not None and cards.lapse_due(report_state(report), today)):
            return None
        return _report_view(report)

    async def find_report(self, reference: str) -> ReportView | None:
        report = await self.db.run_read(
            lambda connection: connection.execute(
                _BY_REFERENCE, {"reference": reference}
            ).one_or_none()
        )
        return None if report is None else _report_view(report)

    async def report_events(self, reference: str) -> list[ReportEventView]:
        def read(connection: Connection) -> list[ReportEventView]:
            report_id = connection.execute(
                _ID_BY_REFERENCE, {"reference": reference}
            ).scalar_one_or_none()
            if report_id is None:
                raise NotFound("loss report", reference)
            return [
                ReportEventView(at=e.at, status=e.status, actor=e.actor, note=e.note)
                for e in connection.execute(_EVENTS_OF, {"report_id": report_id})
            ]

        return await self.db.run_read(read)

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
        owner = {
            "card_id": card_id,
            "citizen_id": citizen_id,
            "id_hash": id_hash,
            "id_masked": id_masked,
            "call_id": call_id,
        }

        def report(connection: Connection) -> ReportView:
            card, card_report = _lock_card_and_report(connection, card_id)
            if card.citizen_id != citizen_id:
                raise NotFound("card of citizen", card_id)
            card = _record_due_lapse(connection, card, card_report, now)
            decision = cards.report_by_phone(card_state(card), now=now, lapse_days=lapse_days)
            draw = partial(cards.new_reference, now)
            return _report_view(open_report(connection, owner, decision, "caller", now, draw=draw))

        with refusals_as_store_errors():
            return await self.db.run_write(report)

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
        owner = {
            "card_id": None,
            "citizen_id": citizen_id,
            "id_hash": id_hash,
            "id_masked": id_masked,
            "call_id": call_id,
            "statement_recording_id": recording_id,
        }
        draw = partial(cards.new_reference, now)
        return _report_view(
            await self.db.run_write(
                lambda connection: open_report(
                    connection, owner, decision, "caller", now, draw=draw
                )
            )
        )

    async def attach_statement(self, report_id: int, recording_id: int) -> None:
        values = {"report_id": report_id, "recording_id": recording_id}

        def attach(connection: Connection) -> None:
            if connection.execute(_ATTACH_STATEMENT, values).one_or_none() is None:
                raise NotFound("loss report", report_id)

        await self.db.run_write(attach)

    async def lift_provisional_report(
        self, card_id: int, *, call_id: int | None, now: datetime, actor: str = "caller"
    ) -> ReportView:
        """The card was found: back to normal; ``ReportNotLiftable`` unless provisional."""

        def lift(connection: Connection) -> ReportView:
            card, report = _lock_card_and_report(connection, card_id)
            if report is None:
                raise StepRefused(Step.LIFT, None)
            decision = cards.lift(
                report_state(report), card_state(card), now=now, by_phone=call_id is not None
            )
            return _report_view(
                apply_decision(connection, report.id, card.id, decision, actor, now)
            )

        with refusals_as_store_errors():
            return await self.db.run_write(lift)

    # -- staff steps (supervisor console) ------------------------------------------------------

    async def verify_report(
        self, reference: str, *, card_id: int, actor: str, now: datetime, lapse_days: int
    ) -> ReportView:
        """Staff matched an unverified report to a card of the same person: now provisional."""

        def verify(connection: Connection) -> ReportView:
            report = _lock_report(connection, reference)
            card, card_report = _lock_card_and_report(connection, card_id)
            card = _record_due_lapse(connection, card, card_report, now)
            owner_hash = connection.execute(
                _ID_HASH_OF, {"citizen_id": card.citizen_id}
            ).scalar_one_or_none()
            decision = cards.verify(
                report_state(report),
                card_state(card),
                same_person=owner_hash is not None and owner_hash == report.id_hash,
                now=now,
                lapse_days=lapse_days,
            )
            matched = {"card_id": card.id, "citizen_id": card.citizen_id}
            return _report_view(
                apply_decision(
                    connection, report.id, card.id, decision, actor, now, report_also=matched
                )
            )

        with refusals_as_store_errors():
            return await self.db.run_write(verify)

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
        return await self._staff_step(
            reference,
            actor,
            now,
            partial(cards.formalise, now=now, calendar=calendar, working_days=working_days),
        )

    async def mark_card_made(self, reference: str, *, actor: str, now: datetime) -> ReportView:
        return await self._staff_step(reference, actor, now, partial(cards.mark_card_made, now=now))

    async def mark_picked_up(self, reference: str, *, actor: str, now: datetime) -> ReportView:
        """The new card (new number, normal) replaces the lost one."""
        return await self._staff_step(reference, actor, now, partial(cards.mark_picked_up, now=now))

    async def _staff_step(
        self,
        reference: str,
        actor: str,
        now: datetime,
        decide: _StaffDecision,
    ) -> ReportView:
        """A step on the report and its card as they stand (formal, card made, picked up); a new
        card when the domain says one replaces the reported card."""

        def step(connection: Connection) -> ReportView:
            report = _lock_report(connection, reference)
            card = _lock_report_card(connection, report)
            decision = decide(report_state(report), None if card is None else card_state(card))
            replaced = None
            if card is not None and decision.new_card is not None:
                new_id = _issue_replacement(connection, card, decision.new_card, now)
                replaced = {"replaced_by_id": new_id}
            return _report_view(
                apply_decision(
                    connection, report.id, report.card_id, decision, actor, now, card_also=replaced
                )
            )

        with refusals_as_store_errors():
            return await self.db.run_write(step)

    async def lapse_due_reports(self, *, now: datetime) -> int:
        """Write down every lapse that is due (reads and writes see them already)."""

        def sweep(connection: Connection) -> int:
            provisional = connection.execute(_LOCKED_PROVISIONAL).all()
            due = [r for r in provisional if cards.lapse_due(report_state(r), now.date())]
            for report in due:
                card = _lock_report_card(connection, report)
                decision = cards.lapse(
                    report_state(report),
                    None if card is None else card_state(card),
                    today=now.date(),
                )
                apply_decision(connection, report.id, report.card_id, decision, "system", now)
            return len(due)

        return await self.db.run_write(sweep)


# -- queries and locks (built once; locks are PostgreSQL's, SQLite's writers take turns) -------

_CITIZENS = table_of(Citizen)
_CURRENT_CARD = (
    select(CARDS)
    .where(CARDS.c.citizen_id == bindparam("citizen_id"), CARDS.c.replaced_by_id.is_(None))
    .order_by(CARDS.c.id.desc())
    .limit(1)
)
_LOCKED_CARD = select(CARDS).where(CARDS.c.id == bindparam("card_id")).with_for_update()
_OPEN_REPORT = (
    select(REPORTS)
    .where(REPORTS.c.card_id == bindparam("card_id"), REPORTS.c.status.in_(cards.OPEN_STATUSES))
    .order_by(REPORTS.c.reported_at.desc(), REPORTS.c.id.desc())
    .limit(1)
)
_LOCKED_OPEN_REPORT = _OPEN_REPORT.with_for_update()
_BY_REFERENCE = select(REPORTS).where(REPORTS.c.reference == bindparam("reference"))
_LOCKED_BY_REFERENCE = _BY_REFERENCE.with_for_update()
_ID_BY_REFERENCE = select(REPORTS.c.id).where(REPORTS.c.reference == bindparam("reference"))
_LOCKED_PROVISIONAL = (
    select(REPORTS)
    .where(REPORTS.c.status == cards.STEPS[Step.LAPSE].allowed_from)
    .with_for_update()
)
_EVENTS_OF = (
    select(EVENTS.c.at, EVENTS.c.status, EVENTS.c.actor, EVENTS.c.note)
    .where(EVENTS.c.report_id == bindparam("report_id"))
    .order_by(EVENTS.c.at, EVENTS.c.id)
)
_ID_HASH_OF = select(_CITIZENS.c.id_hash).where(_CITIZENS.c.id == bindparam("citizen_id"))
_ATTACH_STATEMENT = (
    update(REPORTS)
    .where(REPORTS.c.id == bindparam("report_id"))
    .values(statement_recording_id=bindparam("recording_id"))
    .returning(REPORTS.c.id)
)
_CARD_NUMBER_TAKEN = select(CARDS.c.id).where(CARDS.c.number == bindparam("number"))
_INSERT_CARD = insert(CARDS).returning(CARDS.c.id)


class _StaffDecision(Protocol):
    def __call__(
        self, report: cards.ReportState, card: cards.CardState | None
    ) -> cards.Decision: ...


def _report_state_or_none(report: Row[Any] | None) -> cards.ReportState | None:
    return None if report is None else report_state(report)


def _lock_card(connection: Connection, card_id: int) -> Row[Any]:
    card = connection.execute(_LOCKED_CARD, {"card_id": card_id}).one_or_none()
    if card is None:
        raise NotFound("card", card_id)
    return card


def _lock_report(connection: Connection, reference: str) -> Row[Any]:
    report = connection.execute(_LOCKED_BY_REFERENCE, {"reference": reference}).one_or_none()
    if report is None:
        raise NotFound("loss report", reference)
    return report


def _lock_report_card(connection: Connection, report: Row[Any]) -> Row[Any] | None:
    """The report's card, locked; None before staff verified a report by statement."""
    if report.card_id is None:
        return None
    return _lock_card(connection, report.card_id)


def _lock_card_and_report(connection: Connection, card_id: int) -> tuple[Row[Any], Row[Any] | None]:
    """The card and its open report (None: none), both locked: the report first, as every step
    locks a report before its card (the other way round, a lift and a formal report at once
    deadlocked on PostgreSQL)."""
    report = connection.execute(_LOCKED_OPEN_REPORT, {"card_id": card_id}).one_or_none()
    return _lock_card(connection, card_id), report


def _record_due_lapse(
    connection: Connection, card: Row[Any], report: Row[Any] | None, now: datetime
) -> Row[Any]:
    """Record the lapse of the card's open report (locked) if it is due, before a new report on
    the card; the card as it stands then."""
    if report is None or not cards.lapse_due(report_state(report), now.date()):
        return card
    decision = cards.lapse(report_state(report), card_state(card), today=now.date())
    apply_decision(connection, report.id, card.id, decision, "system", now)
    return _lock_card(connection, card.id)


def _issue_replacement(
    connection: Connection, old: Row[Any], new_state: cards.CardState, now: datetime
) -> int:
    """The new card replacing ``old``, in the state the domain gave it; its id."""
    new_id: int = connection.execute(
        _INSERT_CARD,
        {
            "citizen_id": old.citizen_id,
            "number": _unused_card_number(connection),
            "status": new_state.status,
            "settlement_stopped_at": new_state.settlement_stopped_at,
            "status_since": now,
            "issued_on": now.date(),
        },
    ).scalar_one()
    return new_id


def _unused_card_number(connection: Connection) -> str:
    for _ in range(_CARD_NUMBER_ATTEMPTS):
        number = new_card_number()
        if connection.execute(_CARD_NUMBER_TAKEN, {"number": number}).first() is None:
            return number
    raise RuntimeError("no free card number found")


# -- views ---------------------------------------------------------------------------------------


def card_view(card: StoredCard, state: cards.CardState | None = None) -> CardView:
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


def _report_view(report: Row[Any]) -> ReportView:
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
