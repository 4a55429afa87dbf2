"""The call log as CSV (``/calls.csv``): every call the filters match, ID numbers masked, audited.

The file is streamed as it is read: the calls come from the store in batches, each batch is
written out as CSV in a worker thread (a month is a million rows: the event loop keeps serving
others meanwhile) and sent before the next is read. Nothing is cut: a download that stops early
lacks the end of its chunked encoding, which clients report as a failed download, and the audit
log says how many calls were sent.

Cells are written so that no spreadsheet takes one for a formula (CSV injection).
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterable, Sequence

from aiohttp import web

from ivr.domain.clock import stamp
from ivr.store.views import CallSummary
from ivr.web.calls.filters import CallFilter, FilterError
from ivr.web.plumbing.auditing import audit
from ivr.web.plumbing.roles import SUPERVISORS
from ivr.web.plumbing.routing import Routes
from ivr.web.state import console

__all__ = ["routes", "to_csv"]

BATCH = 2000  # calls per query, per thread hop and per write
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
    response = web.StreamResponse(
        headers={
            "Content-Disposition": 'attachment; filename="calls.csv"',
            # Sent before the security middleware sees the response: personal data, not cached.
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
    response.content_type = "text/csv"
    response.charset = "utf-8"
    await response.prepare(request)
    # The BOM lets spreadsheet programs read the Chinese text.
    await response.write(("\ufeff" + _lines([CSV_COLUMNS])).encode("utf-8"))
    sent, finished = 0, False
    try:
        async for calls in console(request).calls.calls_in_batches(flt.query(), size=BATCH):
            await response.write((await asyncio.to_thread(to_csv, calls)).encode("utf-8"))
            sent += len(calls)
        await response.write_eof()
        finished = True
    finally:
        stopped = "" if finished else " (stopped before the end)"
        await audit(
            request,
            "export_calls",
            target="calls.csv",
            detail=f"{sent} calls{stopped}; {flt.describe()}",
        )
    return response


def to_csv(calls: list[CallSummary]) -> str:
    """The calls as CSV lines (no header)."""
    return _lines(
        (
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
        for call in calls
    )


def _lines(rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
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
