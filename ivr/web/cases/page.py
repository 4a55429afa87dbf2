"""Card cases (``/cases``): loss reports and the counter's steps on them.

The steps are POST forms (CSRF-checked) and each is booked in the report's history as
``staff:<username>`` and in the audit log, refused attempts included:

- verify: a report made by recorded statement is matched to the current card of the person whose
  ID hash it carries (looked up here, never typed), and becomes provisional (settlement stops);
- formal: the formal loss report; the pick-up date is 15 working days on (Chinese calendar);
- made / picked-up: the new card is ready, then collected (the lost card is replaced);
- lift: the card was found before the formal report: back to normal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from ivr.domain.cards import ReportStatus
from ivr.domain.clock import local, local_now, local_today
from ivr.store.console import CaseView
from ivr.store.errors import StoreError
from ivr.web.plumbing.auditing import audit, staff_actor
from ivr.web.plumbing.roles import CASEWORK
from ivr.web.plumbing.routing import Routes, see_other
from ivr.web.state import console

__all__ = ["ACTIONS", "CLOSED_SHOWN", "CaseActionError", "perform", "routes"]

LAPSING_DAYS = 2  # a provisional report this close to lapsing is highlighted
CLOSED_SHOWN = timedelta(days=7)


@dataclass(frozen=True)
class CaseAction:
    label: str
    allowed_from: ReportStatus
    done: str


ACTIONS: dict[str, CaseAction] = {
    "verify": CaseAction(
        "Verify against the card", ReportStatus.NEEDS_VERIFICATION, "Report verified"
    ),
    "formal": CaseAction(
        "Record formal report", ReportStatus.PROVISIONAL, "Formal report recorded"
    ),
    "lift": CaseAction("Lift (card found)", ReportStatus.PROVISIONAL, "Report lifted"),
    "made": CaseAction("New card made", ReportStatus.FORMAL, "New card marked made"),
    "picked-up": CaseAction("Picked up", ReportStatus.CARD_MADE, "New card marked picked up"),
}
SECTIONS = (
    (ReportStatus.NEEDS_VERIFICATION, "Waiting for verification"),
    (ReportStatus.PROVISIONAL, "Provisional reports (settlement stopped)"),
    (ReportStatus.FORMAL, "Formal reports: new card being made"),
    (ReportStatus.CARD_MADE, "New card ready for pick-up"),
)
CLOSED = (ReportStatus.LIFTED, ReportStatus.LAPSED, ReportStatus.PICKED_UP)

routes = Routes()


class CaseActionError(Exception):
    """The step cannot be taken on this report now; the message says why."""


async def perform(request: web.Request, reference: str, action: str) -> CaseView:
    """Take ``action`` on the report; book and audit it. ``HTTPNotFound`` for no such report."""
    state = console(request)
    step = ACTIONS.get(action)
    if step is None:
        raise web.HTTPNotFound(text=f"no case action {action!r}")
    now = local_now()  # local: the lapse and pick-up dates are Beijing dates
    case = await state.calls.case(reference, today=now.date())
    if case is None:
        raise web.HTTPNotFound(text=f"no loss report {reference!r}")
    actor = staff_actor(request)
    try:
        if case.status is not step.allowed_from:
            raise CaseActionError(f"the report is {case.status.value}: cannot {action} it")
        await _apply(request, case, action, actor, now)
    except (CaseActionError, StoreError) as error:
        await audit(
            request, f"case_{action}", target=f"report:{reference}", detail=f"refused: {error}"
        )
        raise CaseActionError(str(error)) from None
    updated = await state.calls.case(reference, today=now.date())
    assert updated is not None
    detail = f"{case.status.value} -> {updated.status.value}"
    if updated.pickup_on and action == "formal":
        detail += f", pick-up on {updated.pickup_on.isoformat()}"
    await audit(request, f"case_{action}", target=f"report:{reference}", detail=detail)
    return updated


async def _apply(
    request: web.Request, case: CaseView, action: str, actor: str, now: datetime
) -> None:
    state = console(request)
    settings = state.settings
    ref = case.reference
    match action:
        case "verify":
            if case.card is None:
                raise CaseActionError("no card on record for this person: verify at the counter")
            await state.records.verify_report(
                ref,
                card_id=case.card.id,
                actor=actor,
                now=now,
                lapse_days=settings.provisional_lapse_days,
            )
        case "formal":
            await state.records.record_formal_report(
                ref, actor=actor, now=now, working_days=settings.reissue_working_days
            )
        case "made":
            await state.records.mark_card_made(ref, actor=actor, now=now)
        case "picked-up":
            await state.records.mark_picked_up(ref, actor=actor, now=now)
        case "lift":
            if case.card is None:
                raise CaseActionError("the report has no card")
            await state.records.lift_provisional_report(
                case.card.id, call_id=None, now=now, actor=actor
            )


def lapsing(case: CaseView, today: date) -> bool:
    return (
        case.status is ReportStatus.PROVISIONAL
        and case.lapses_on is not None
        and (case.lapses_on - today).days <= LAPSING_DAYS
    )


async def _page(
    request: web.Request, *, error: str = "", done: str = "", status: int = 200
) -> web.Response:
    today = local_today()
    cases = await console(request).calls.cases(today=today, closed_since=local_now() - CLOSED_SHOWN)
    context: dict[str, Any] = {
        "sections": [
            (status_, title, [c for c in cases if c.status is status_])
            for status_, title in SECTIONS
        ],
        "closed": [c for c in cases if c.status in CLOSED],
        "reported_today": sum(1 for c in cases if local(c.reported_at).date() == today),
        "actions": ACTIONS,
        "today": today,
        "lapsing": lambda c: lapsing(c, today),
        "error": error,
        "done": done,
    }
    return aiohttp_jinja2.render_template("cases.html", request, context, status=status)


@routes.get("/cases", roles=CASEWORK, menu="Card cases")
async def cases_page(request: web.Request) -> web.StreamResponse:
    done = ""
    action, ref = request.query.get("done", ""), request.query.get("ref", "")
    if action in ACTIONS and ref.isdigit():
        done = f"{ACTIONS[action].done}: {ref}."
    return await _page(request, done=done)


@routes.post(r"/cases/{reference:\d{1,12}}/{action}", roles=CASEWORK)
async def case_action(request: web.Request) -> web.StreamResponse:
    reference, action = request.match_info["reference"], request.match_info["action"]
    try:
        await perform(request, reference, action)
    except CaseActionError as error:
        return await _page(request, error=f"{reference}: {error}", status=409)
    return see_other(f"/cases?done={action}&ref={reference}#case-{reference}")
