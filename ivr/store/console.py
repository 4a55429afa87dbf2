"""The supervisor console's queries: the call log searched and paged, recordings, card cases
(and one write: a line in a report's history naming the staff member who took a step).

A call is searched by ID number only through its keyed hash (``id_hash``): the console hashes the
number a supervisor typed and forgets it. Card cases are loss reports with their card (for a report
waiting for verification: the current card of the person whose ID hash it carries) and history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from ivr.domain.cards import OPEN_STATUSES, ReportStatus, effective_status
from ivr.domain.outcomes import Outcome
from ivr.domain.retention import Hold
from ivr.store.base import RecordsBase
from ivr.store.calls import call_summary
from ivr.store.models import (
    Call,
    CallHour,
    Card,
    Citizen,
    LossReport,
    Recording,
    RecordingAudio,
    ReportEvent,
    VoiceMessage,
)
from ivr.store.reports import card_view
from ivr.store.retention import recording_holds
from ivr.store.rollups import hour_of, hour_start, in_progress
from ivr.store.runs import live_runs
from ivr.store.views import CallSummary, CardView, ReportEventView

__all__ = [
    "CallQuery",
    "CaseView",
    "CertificateView",
    "ConsoleRecords",
    "RecordingView",
    "VoiceMessageView",
]


@dataclass(frozen=True)
class CallQuery:
    """Filters of the call log; ``None`` or empty: no filter. Times are aware datetimes."""

    start: datetime | None = None  # started at or after
    end: datetime | None = None  # started before
    hotline: str | None = None
    outcome: str | None = None
    caller: str | None = None  # the calling number's first digits
    id_hash: str | None = None


@dataclass(frozen=True)
class RecordingView:
    id: int
    call_id: int
    kind: str
    path: str  # relative to the data folder
    duration_s: float
    created_at: datetime
    deleted_at: datetime | None = None  # its file deleted under the retention policy
    hold: Hold | None = None  # what keeps it past its retention date, as of the day asked


@dataclass(frozen=True)
class VoiceMessageView:
    recording_id: int
    callback_number: str
    created_at: datetime
    handled_at: datetime | None


@dataclass(frozen=True)
class CaseView:
    reference: str
    status: ReportStatus  # effective: a provisional report past its date shows as lapsed
    id_masked: str
    reported_at: datetime
    lapses_on: date | None
    pickup_on: date | None
    verified: bool
    call_id: int | None
    statement_recording_id: int | None
    updated_at: datetime
    card: CardView | None  # the reported card; for an unverified report the person's current one
    statement: RecordingView | None = None  # the recorded statement (``statement_recording_id``)
    events: list[ReportEventView] = field(default_factory=list)


@dataclass(frozen=True)
class CertificateView:
    """What the pick-up certificate prints: a formal report and its holder."""

    reference: str
    status: ReportStatus
    id_masked: str
    holder: str  # the citizen's name
    formal_at: datetime
    pickup_on: date


class ConsoleRecords(RecordsBase):
    # -- call log ------------------------------------------------------------------------------

    async def search_calls(
        self, query: CallQuery, *, limit: int, offset: int = 0
    ) -> tuple[int, list[CallSummary]]:
        """(total matching, one page newest first); the calls come without their steps."""
        selection = _filtered(select(Call), query, self.db.is_sqlite)
        async with self.db.read(snapshot=True) as session:
            total = await _total(session, query, selection, sqlite=self.db.is_sqlite)
            calls = await session.scalars(
                selection.order_by(Call.started_at.desc(), Call.id.desc())
                .limit(limit)
                .offset(offset)
            )
            return total, [call_summary(call) for call in calls]

    async def calls_in_batches(
        self, query: CallQuery, *, size: int = 1000
    ) -> AsyncIterator[list[CallSummary]]:
        """Every call the query matches, newest first (as the call log pages them), ``size`` at a
        time, without their steps. Each batch is one short query that goes on from where the
        last stopped (start time, then id), so an export of a month holds no transaction open
        while the client reads, and calls that start meanwhile (newer) are not in it."""
        selection = _filtered(select(*_SUMMARY_COLUMNS), query, self.db.is_sqlite)
        ordered = selection.order_by(Call.started_at.desc(), Call.id.desc()).limit(size)
        after: tuple[datetime, int] | None = None
        while True:
            page = ordered
            if after is not None:
                started, call_id = after
                page = ordered.where(
                    Call.started_at <= started, or_(Call.started_at < started, Call.id < call_id)
                )
            async with self.db.read() as session:
                rows = (await session.execute(page)).all()
            if not rows:
                return
            yield [CallSummary(**row._asdict()) for row in rows]
            if len(rows) < size:
                return
            after = (rows[-1].started_at, rows[-1].id)

    async def unfinished_calls(
        self, *, since: datetime, now: datetime, stale_after: timedelta
    ) -> list[CallSummary]:
        """Calls not ended whose process is alive (another process's live calls).

        Alive: not stopped, and seen within ``stale_after`` of ``now``, so a dead process's calls
        disappear before anyone closes them. A call with no run (written before runs were
        recorded) counts when it started after ``since``.
        """
        alive = Call.run_id.in_(live_runs(now, stale_after))
        unowned = and_(Call.run_id.is_(None), Call.started_at >= since)
        async with self.db.read() as session:
            calls = await session.scalars(
                select(Call)
                .where(Call.ended_at.is_(None), or_(alive, unowned))
                .order_by(Call.started_at)
            )
            return [call_summary(call) for call in calls]

    async def refused_calls(self, *, since: datetime) -> dict[str, int]:
        """Calls refused because the node was full (lines busy) that started after ``since``,
        per hotline (hotlines with none left out)."""
        async with self.db.read() as session:
            rows = await session.execute(
                select(Call.hotline, func.count())
                .where(Call.outcome == Outcome.REFUSED.value, Call.started_at >= since)
                .group_by(Call.hotline)
            )
            return {hotline: count for hotline, count in rows}

    async def call_recordings(self, call_id: int, *, today: date) -> list[RecordingView]:
        """The call's recordings, each with what holds it past its retention date ``today``."""
        async with self.db.read() as session:
            rows = list(
                await session.scalars(
                    select(Recording).where(Recording.call_id == call_id).order_by(Recording.id)
                )
            )
            holds = await recording_holds(session, [r.id for r in rows], today)
            return [_recording(r, holds.get(r.id)) for r in rows]

    async def call_voice_messages(self, call_id: int) -> list[VoiceMessageView]:
        async with self.db.read() as session:
            rows = await session.scalars(
                select(VoiceMessage)
                .where(VoiceMessage.call_id == call_id)
                .order_by(VoiceMessage.id)
            )
            return [
                VoiceMessageView(m.recording_id, m.callback_number, m.created_at, m.handled_at)
                for m in rows
            ]

    async def call_reports(self, call_id: int) -> list[str]:
        """References of the loss reports made on the call."""
        async with self.db.read() as session:
            rows = await session.scalars(
                select(LossReport.reference)
                .where(LossReport.call_id == call_id)
                .order_by(LossReport.id)
            )
            return list(rows)

    async def recording(self, recording_id: int) -> RecordingView | None:
        async with self.db.read() as session:
            row = await session.get(Recording, recording_id)
        return None if row is None else _recording(row)

    async def recording_audio(self, recording_id: int) -> bytes | None:
        """The recording's sound kept in the database (several nodes), or None."""
        async with self.db.read() as session:
            found: bytes | None = await session.scalar(
                select(RecordingAudio.audio).where(RecordingAudio.recording_id == recording_id)
            )
        return found

    async def is_case_statement(self, recording_id: int) -> bool:
        """True when the recording is the statement of a loss report (what counter staff hear)."""
        async with self.db.read() as session:
            found = await session.scalar(
                select(LossReport.id).where(LossReport.statement_recording_id == recording_id)
            )
        return found is not None

    # -- card cases ----------------------------------------------------------------------------

    async def cases(self, *, today: date, closed_since: datetime) -> list[CaseView]:
        """Open loss reports, and the others changed since ``closed_since``; oldest first."""
        async with self.db.read() as session:
            reports = list(
                await session.scalars(
                    select(LossReport)
                    .where(
                        or_(
                            LossReport.status.in_(OPEN_STATUSES),
                            LossReport.updated_at >= closed_since,
                        )
                    )
                    .order_by(LossReport.reported_at, LossReport.id)
                )
            )
            return await _case_views(session, reports, today)

    async def certificate(self, reference: str) -> CertificateView | None:
        """The report's certificate; ``None`` when there is no such report or no formal report
        was recorded on it (nothing to certify)."""
        async with self.db.read() as session:
            found = (
                await session.execute(
                    select(LossReport, Citizen.name)
                    .join(Citizen, Citizen.id == LossReport.citizen_id)
                    .where(LossReport.reference == reference)
                )
            ).first()
        if found is None:
            return None
        report, name = found
        if report.formal_at is None or report.pickup_on is None:
            return None
        return CertificateView(
            report.reference,
            report.status,
            report.id_masked,
            name,
            report.formal_at,
            report.pickup_on,
        )

    async def case(self, reference: str, *, today: date) -> CaseView | None:
        async with self.db.read() as session:
            report = await session.scalar(
                select(LossReport).where(LossReport.reference == reference)
            )
            if report is None:
                return None
            (view,) = await _case_views(session, [report], today)
        return view


# A call's own columns, as ``CallSummary`` names them (the path is not among them).
_SUMMARY_COLUMNS = tuple(
    getattr(Call, name) for name in CallSummary.__dataclass_fields__ if hasattr(Call, name)
)


_Selection = TypeVar("_Selection", bound=Select[Any])


def _filtered(selection: _Selection, query: CallQuery, sqlite: bool) -> _Selection:
    if query.start is not None:
        selection = selection.where(Call.started_at >= query.start)
    if query.end is not None:
        selection = selection.where(Call.started_at < query.end)
    if query.hotline:
        selection = selection.where(Call.hotline == query.hotline)
    if query.outcome:
        selection = selection.where(Call.outcome == query.outcome)
    if query.caller:
        selection = selection.where(*_starts_with(Call.caller_id, query.caller, sqlite))
    if query.id_hash:
        selection = selection.where(Call.id_hash == query.id_hash)
    return selection


def _starts_with(
    column: InstrumentedAttribute[str], prefix: str, sqlite: bool
) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """``column`` starts with ``prefix``, as a range of its index (``ix_calls_caller_id``):
    from the prefix to the prefix with its last character's successor. Characters compare by
    code point: SQLite's own comparison, PostgreSQL's pattern operators (whatever the locale)."""
    after = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    if sqlite:
        return column >= prefix, column < after
    at_least, below = column.op("~>=~", is_comparison=True), column.op("~<~", is_comparison=True)
    return at_least(prefix), below(after)


async def _total(
    session: AsyncSession, query: CallQuery, selection: Select[Call], *, sqlite: bool
) -> int:
    """How many calls the query matches. Filtered by whole hours, hotline and outcome only, the
    rollups answer it (plus the calls in progress), without counting a month of rows."""
    if query.caller or query.id_hash or not (_whole_hour(query.start) and _whole_hour(query.end)):
        counted = await session.scalar(select(func.count()).select_from(selection.subquery()))
        return int(counted or 0)
    finished = select(func.coalesce(func.sum(CallHour.calls), 0))
    if query.start is not None:
        finished = finished.where(CallHour.hour >= hour_of(query.start))
    if query.end is not None:
        finished = finished.where(CallHour.hour < hour_of(query.end))
    if query.hotline:
        finished = finished.where(CallHour.hotline == query.hotline)
    if query.outcome:
        finished = finished.where(CallHour.outcome == query.outcome)
    total = int(await session.scalar(finished) or 0)
    if not query.outcome:  # a call in progress has no outcome yet
        running = in_progress(query.start, query.end, query.hotline, sqlite=sqlite)
        total += int(await session.scalar(select(func.count()).where(*running)) or 0)
    return total


def _whole_hour(moment: datetime | None) -> bool:
    return moment is None or hour_start(hour_of(moment)) == moment


async def _case_views(
    session: AsyncSession, reports: list[LossReport], today: date
) -> list[CaseView]:
    """Reports as the counter sees them: effective status, the card, the history."""
    cards = await _cards(session, reports)
    events = await _events(session, [r.id for r in reports])
    statements = await _statements(session, reports, today)
    return [
        CaseView(
            reference=r.reference,
            status=effective_status(r.status, r.lapses_on, today),
            id_masked=r.id_masked,
            reported_at=r.reported_at,
            lapses_on=r.lapses_on,
            pickup_on=r.pickup_on,
            verified=r.verified,
            call_id=r.call_id,
            statement_recording_id=r.statement_recording_id,
            updated_at=r.updated_at,
            card=cards.get(r.id),
            events=events.get(r.id, []),
            statement=(
                None
                if r.statement_recording_id is None
                else statements.get(r.statement_recording_id)
            ),
        )
        for r in reports
    ]


async def _statements(
    session: AsyncSession, reports: list[LossReport], today: date
) -> dict[int, RecordingView]:
    ids = {r.statement_recording_id for r in reports if r.statement_recording_id is not None}
    if not ids:
        return {}
    rows = list(await session.scalars(select(Recording).where(Recording.id.in_(ids))))
    holds = await recording_holds(session, ids, today)
    return {r.id: _recording(r, holds.get(r.id)) for r in rows}


async def _cards(session: AsyncSession, reports: list[LossReport]) -> dict[int, CardView]:
    """The card of each report: its own, or (not verified yet) the person's current card."""
    own = {r.id: r.card_id for r in reports if r.card_id is not None}
    unverified = {r.id: r.id_hash for r in reports if r.card_id is None}
    found: dict[int, CardView] = {}
    if own:
        rows = await session.scalars(select(Card).where(Card.id.in_(set(own.values()))))
        by_id = {card.id: card for card in rows}
        found.update({rid: card_view(by_id[cid]) for rid, cid in own.items() if cid in by_id})
    if unverified:
        rows2 = await session.execute(
            select(Citizen.id_hash, Card)
            .join(Card, Card.citizen_id == Citizen.id)
            .where(Citizen.id_hash.in_(set(unverified.values())), Card.replaced_by_id.is_(None))
            .order_by(Card.id)
        )
        current = {hashed: card for hashed, card in rows2}  # the latest card wins
        found.update({rid: card_view(current[h]) for rid, h in unverified.items() if h in current})
    return found


async def _events(session: AsyncSession, report_ids: list[int]) -> dict[int, list[ReportEventView]]:
    out: dict[int, list[ReportEventView]] = defaultdict(list)
    if not report_ids:
        return out
    rows = await session.scalars(
        select(ReportEvent)
        .where(ReportEvent.report_id.in_(report_ids))
        .order_by(ReportEvent.at, ReportEvent.id)
    )
    for e in rows:
        out[e.report_id].append(ReportEventView(e.at, e.status, e.actor, e.note))
    return out


def _recording(row: Recording, hold: Hold | None = None) -> RecordingView:
    return RecordingView(
        row.id,
        row.call_id,
        row.kind,
        row.path,
        row.duration_s,
        row.created_at,
        deleted_at=row.deleted_at,
        hold=hold,
    )
