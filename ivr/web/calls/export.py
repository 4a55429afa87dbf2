"""The call log as CSV (``/calls.csv``): the filtered calls, ID numbers masked, audited.

Cells are written so that no spreadsheet takes one for a formula (CSV injection).
"""

from __future__ import annotations

import csv
import io

from aiohttp import web

from ivr.domain.clock import stamp
from ivr.store.views import CallSummary
from ivr.web.calls.filters import CallFilter, FilterError
from ivr.web.plumbing.auditing import audit
from ivr.web.plumbing.roles import SUPERVISORS
from ivr.web.plumbing.routing import Routes
from ivr.web.state import console

__all__ = ["CSV_LIMIT", "routes", "to_csv"]

CSV_LIMIT = 10_000
CSV_COLUMNS = (
    "id",
    "hotline",
    "started_at",
    "ended_at",
    "caller_id",
    "language",
    "outcome",
    "last_node",
    "next_action",
    "id_masked",
    "hangup_cause",
    "hangup_cause_text",
    "duration_s",
)

routes = Routes()


@routes.get("/calls.csv", roles=SUPERVISORS)
async def export(request: web.Request) -> web.StreamResponse:
    try:
        flt = CallFilter.parse(request.query)
    except FilterError as error:
        raise web.HTTPBadRequest(text=str(error)) from None
    total, calls = await console(request).calls.search_calls(flt.query(), limit=CSV_LIMIT)
    await audit(
        request,
        "export_calls",
        target="calls.csv",
        detail=f"{len(calls)} of {total} calls; {flt.describe()}",
    )
    body = to_csv(calls)
    return web.Response(
        body=body.encode("utf-8-sig"),  # the BOM lets spreadsheet programs read the Chinese text
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="calls.csv"'},
    )


def to_csv(calls: list[CallSummary]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for call in calls:
        row = (
            call.id,
            call.hotline,
            stamp(call.started_at),
            stamp(call.ended_at),
            call.caller_id,
            call.language,
            call.outcome or "",
            call.last_node or "",
            call.next_action or "",
            call.id_masked or "",  # masked only: the clear number is not stored at all
            "" if call.hangup_cause is None else call.hangup_cause,
            call.hangup_cause_text or "",
            "" if call.duration is None else round(call.duration),
        )
        writer.writerow([_cell(value) for value in row])
    return out.getvalue()


def _cell(value: object) -> str:
    """No cell may start a spreadsheet formula (CSV injection)."""
    text = str(value)
    if text[:1] in ("=", "+", "@", "\t", "\r") or (text[:1] == "-" and not _is_number(text)):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
