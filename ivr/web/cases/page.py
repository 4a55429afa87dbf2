"""Card cases (``/cases``; JSON at ``/api/cases``): open loss reports by status, the ones closed
this week, and a form (or a POST to the API) for each step the counter may take on a report
(the steps themselves: ``ivr.web.cases.steps``). Each recorded statement says when the retention
policy deletes it (kept while its case is open).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from ivr.domain.cards import OPEN_STATUSES, ReportStatus
from ivr.domain.clock import local, local_now
from ivr.store.console import CaseView
from ivr.web.cases.steps import ACTIONS, CaseActionError, perform
from ivr.web.plumbing.errors import error_response
from ivr.web.plumbing.i18n import Text, _l
from ivr.web.plumbing.roles import CASEWORK
from ivr.web.plumbing.routing import Routes, see_other
from ivr.web.retention import statement_fate
from ivr.web.serialize import case_json
from ivr.web.state import console

__all__ = ["CLOSED_SHOWN", "routes"]

LAPSING_DAYS = 2  # a provisional report this close to lapsing is highlighted
CLOSED_SHOWN = timedelta(days=7)
SECTIONS = (
    (ReportStatus.NEEDS_VERIFICATION, _l("Waiting for verification")),
    (ReportStatus.PROVISIONAL, _l("Provisional reports (settlement stopped)")),
    (ReportStatus.FORMAL, _l("Formal reports: new card being made")),
    (ReportStatus.CARD_MADE, _l("New card ready for pick-up")),
)
CLOSED = tuple(status for status in ReportStatus if status not in OPEN_STATUSES)

routes = Routes()


def _lapsing(case: CaseView, today: date) -> bool:
    return (
        case.status is ReportStatus.PROVISIONAL
        and case.lapses_on is not None
        and (case.lapses_on - today).days <= LAPSING_DAYS
    )


async def _page(
    request: web.Request,
    *,
    error: Text | None = None,
    done: Text | None = None,
    certificate: str | None = None,
    status: int = 200,
) -> web.Response:
    now = local_now()
    today = now.date()
    state = console(request)
    cases = await state.calls.cases(today=today, closed_since=now - CLOSED_SHOWN)
    context: dict[str, Any] = {
        "sections": [
            (status_, title, [c for c in cases if c.status is status_])
            for status_, title in SECTIONS
        ],
        "closed": [c for c in cases if c.status in CLOSED],
        "reported_today": sum(1 for c in cases if local(c.reported_at).date() == today),
        "actions": ACTIONS,
        "today": today,
        "lapsing": lambda c: _lapsing(c, today),
        "lapsing_days": LAPSING_DAYS,
        "statement_fate": lambda c: statement_fate(state.retention, c, now),
        "error": error,
        "done": done,
        "certificate": certificate,
    }
    return aiohttp_jinja2.render_template("cases.html", request, context, status=status)


@routes.get("/cases", roles=CASEWORK, menu=_l("Card cases"))
async def cases_page(request: web.Request) -> web.StreamResponse:
    done = None
    action, ref = request.query.get("done", ""), request.query.get("ref", "")
    if action in ACTIONS and ref.isdigit():
        done = replace(ACTIONS[action].done, params={"reference": ref})
    # After the formal report: its certificate, to print for the holder at the counter.
    printable = ref if done is not None and action == "formal" else None
    return await _page(request, done=done, certificate=printable)


@routes.post(r"/cases/{reference:\d{1,12}}/{action}", roles=CASEWORK)
async def case_action(request: web.Request) -> web.StreamResponse:
    reference, action = request.match_info["reference"], request.match_info["action"]
    try:
        await perform(request, reference, action)
    except CaseActionError as error:
        return await _page(
            request,
            error=_l("%(reference)s: %(why)s", reference=reference, why=error.text),
            status=409,
        )
    return see_other(f"/cases?done={action}&ref={reference}#case-{reference}")


@routes.get("/api/cases", roles=CASEWORK)
async def cases_api(request: web.Request) -> web.StreamResponse:
    now = local_now()
    state = console(request)
    found = await state.calls.cases(today=now.date(), closed_since=now - CLOSED_SHOWN)
    return web.json_response(
        {"cases": [case_json(c, statement_fate(state.retention, c, now)) for c in found]}
    )


@routes.post(r"/api/cases/{reference:\d{1,12}}/{action}", roles=CASEWORK)
async def case_action_api(request: web.Request) -> web.StreamResponse:
    try:
        case = await perform(request, request.match_info["reference"], request.match_info["action"])
    except CaseActionError as error:
        return await error_response(request, 409, error.text)
    fate = statement_fate(console(request).retention, case, local_now())
    return web.json_response(case_json(case, fate))
