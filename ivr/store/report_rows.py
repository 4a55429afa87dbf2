"""What a loss-report step writes, in Core statements on a transaction's connection: one home for
the caller's and staff's steps (``ivr.store.reports``) and the demo data (``ivr.store.seed``).

A step loads its rows, asks the domain (``ivr.domain.cards``) for a ``Decision`` and hands it
here: ``open_report`` inserts a new report, ``apply_decision`` writes a step on a stored one;
either way the card's change and the line in the report's history go with it. What the decision
means for each column is said once, in ``report_values``, ``card_values`` and ``history_row``.

A new report's reference is drawn until one is free: the insert does nothing on a taken
reference (``ON CONFLICT (reference) DO NOTHING``) and a new one is drawn; any other conflict
(a foreign key, the primary key) raises as it is and the transaction writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Row, bindparam, insert, update
from sqlalchemy.dialects import postgresql, sqlite

from ivr.domain import cards
from ivr.domain.cards import CardStatus, Decision, ReportStatus, Step
from ivr.store.models import Card, LossReport, ReportEvent, table_of

__all__ = [
    "CARDS",
    "EVENTS",
    "REPORTS",
    "StoredCard",
    "StoredReport",
    "apply_decision",
    "card_state",
    "card_values",
    "history_row",
    "open_report",
    "report_state",
    "report_values",
]

CARDS = table_of(Card)
REPORTS = table_of(LossReport)
EVENTS = table_of(ReportEvent)
REFERENCE_ATTEMPTS = 8  # fresh references tried before giving up (a clash is one in a million)


class StoredReport(Protocol):
    """What the rules need of a stored report: a Core row or the ORM object."""

    @property
    def status(self) -> ReportStatus: ...
    @property
    def lapses_on(self) -> date | None: ...


class StoredCard(Protocol):
    """A stored card (its view, and what the rules need): a Core row or the ORM object."""

    @property
    def id(self) -> int: ...
    @property
    def citizen_id(self) -> int: ...
    @property
    def number(self) -> str: ...
    @property
    def status(self) -> CardStatus: ...
    @property
    def status_since(self) -> datetime: ...
    @property
    def settlement_stopped_at(self) -> datetime | None: ...
    @property
    def issued_on(self) -> date: ...
    @property
    def replaced_by_id(self) -> int | None: ...


def report_state(report: StoredReport) -> cards.ReportState:
    return cards.ReportState(report.status, report.lapses_on)


def card_state(card: StoredCard) -> cards.CardState:
    return cards.CardState(
        card.status, card.settlement_stopped_at, in_use=card.replaced_by_id is None
    )


# The column that keeps when a step was taken (verifying and lapsing: the history line only).
_STAMPS: Mapping[Step, str] = {
    Step.REPORT: "reported_at",
    Step.REPORT_UNVERIFIED: "reported_at",
    Step.LIFT: "lifted_at",
    Step.FORMALISE: "formal_at",
    Step.CARD_MADE: "card_made_at",
    Step.PICKED_UP: "picked_up_at",
}


def report_values(decision: Decision, now: datetime) -> dict[str, Any]:
    """The report's columns the decision sets, stamped ``now``."""
    values: dict[str, Any] = {
        "status": decision.status,
        "verified": decision.verified,
        "updated_at": now,
    }
    if decision.lapses_on is not None:
        values["lapses_on"] = decision.lapses_on
    if decision.pickup_on is not None:
        values["pickup_on"] = decision.pickup_on
    stamp = _STAMPS.get(decision.step)
    if stamp is not None:
        values[stamp] = now
    return values


def card_values(decision: Decision, now: datetime) -> dict[str, Any] | None:
    """The reported card's columns the decision sets (None: the step leaves the card alone)."""
    if decision.card is None:
        return None
    return {
        "status": decision.card.status,
        "status_since": now,
        "settlement_stopped_at": decision.card.settlement_stopped_at,
    }


def history_row(report_id: int, decision: Decision, actor: str, now: datetime) -> dict[str, Any]:
    """The decision's line in the report's history."""
    return {
        "report_id": report_id,
        "at": now,
        "status": decision.status,
        "actor": actor,
        "note": decision.note,
    }


_UPDATE_REPORT = update(REPORTS).where(REPORTS.c.id == bindparam("report_id")).returning(*REPORTS.c)
_UPDATE_CARD = update(CARDS).where(CARDS.c.id == bindparam("card_id"))
_INSERT_EVENT = insert(EVENTS)
# A taken reference inserts nothing (and returns no row); no other conflict is let pass.
_INSERT_REPORT = {
    "sqlite": sqlite.insert(REPORTS)
    .on_conflict_do_nothing(index_elements=[REPORTS.c.reference])
    .returning(*REPORTS.c),
    "postgresql": postgresql.insert(REPORTS)
    .on_conflict_do_nothing(index_elements=[REPORTS.c.reference])
    .returning(*REPORTS.c),
}


def apply_decision(
    connection: Connection,
    report_id: int,
    card_id: int | None,
    decision: Decision,
    actor: str,
    now: datetime,
    *,
    report_also: Mapping[str, Any] | None = None,
    card_also: Mapping[str, Any] | None = None,
) -> Row[Any]:
    """Write the decision on a stored report and its card, with its history line; the report as
    it is now. ``report_also``/``card_also``: more columns the step sets (the card staff matched a
    statement to, the card that replaced this one)."""
    report = connection.execute(
        _UPDATE_REPORT,
        {**report_values(decision, now), **(report_also or {}), "report_id": report_id},
    ).one()
    _write_card(connection, card_id, decision, now, card_also)
    connection.execute(_INSERT_EVENT, history_row(report_id, decision, actor, now))
    return report


def open_report(
    connection: Connection,
    owner: Mapping[str, Any],
    decision: Decision,
    actor: str,
    now: datetime,
    *,
    draw: Callable[[], str],
) -> Row[Any]:
    """Insert a new report (``owner``: its card, citizen, ID hash and masked form, call,
    statement) under the first free reference ``draw`` gives, write the decision on its card and
    its first history line; the report as stored."""
    statement = _INSERT_REPORT[connection.dialect.name]
    values = {**owner, **report_values(decision, now)}
    for _ in range(REFERENCE_ATTEMPTS):
        report = connection.execute(statement, {**values, "reference": draw()}).one_or_none()
        if report is not None:
            break
    else:
        raise RuntimeError("no free loss-report reference found")
    _write_card(connection, owner.get("card_id"), decision, now)
    connection.execute(_INSERT_EVENT, history_row(report.id, decision, actor, now))
    return report


def _write_card(
    connection: Connection,
    card_id: int | None,
    decision: Decision,
    now: datetime,
    also: Mapping[str, Any] | None = None,
) -> None:
    values = card_values(decision, now)
    if card_id is not None and values is not None:
        connection.execute(_UPDATE_CARD, {**values, **(also or {}), "card_id": card_id})
