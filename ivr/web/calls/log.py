"""The call log: filtered and paged (``/calls``), searched by ID number, exported as CSV.

The filter form posts (with its CSRF token) and is redirected to the ``GET`` page, so a typed ID
number is hashed on the server and never appears in a URL; an ID search is audited (masked).
"""

from __future__ import annotations

import csv
import io
from math import ceil
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from ivr.domain.clock import stamp
from ivr.domain.hotlines import HOTLINES
from ivr.store.views import CallSummary
from ivr.web.calls.filters import OUTCOMES, CallFilter, FilterError
from ivr.web.plumbing.auditing import audit
from ivr.web.plumbing.roles import SUPERVISORS
from ivr.web.plumbing.routing import Routes, see_other
from ivr.web.state import console

__all__ = ["CSV_LIMIT", "routes", "search_by_form"]

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


async def _page(
    request: web.Request, flt: CallFilter, *, error: str = "", status: int = 200
) -> web.Response:
    total, calls = await console(request).calls.search_calls(
        flt.query(), limit=flt.per_page, offset=flt.offset
    )
    context: dict[str, Any] = {
        "filter": flt,
        "calls": calls,
        "total": total,
        "pages": max(1, ceil(total / flt.per_page)),
        "hotlines": HOTLINES,
        "outcomes": OUTCOMES,
        "error": error,
    }
    return aiohttp_jinja2.render_template("calls.html", request, context, status=status)


@routes.get("/calls", roles=SUPERVISORS, menu="Call log")
async def call_log(request: web.Request) -> web.StreamResponse:
    try:
        flt = CallFilter.parse(request.query)
    except FilterError as error:
        return await _page(request, CallFilter(), error=str(error), status=400)
    return await _page(request, flt)


async def search_by_form(request: web.Request, fields: dict[str, str]) -> CallFilter:
    """The filter a search form asks for; a typed ID number becomes its hash (audited, masked)."""
    flt = CallFilter.parse(fields)
    typed = fields.get("id_number", "").strip()
    if typed:
        flt = flt.with_id_number(typed, console(request).id_key)
        await audit(request, "search_id", detail=f"calls of ID {flt.idm}")
    return flt


@routes.post("/calls", roles=SUPERVISORS)
async def search(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    fields.pop("page", None)
    try:
        flt = await search_by_form(request, fields)
    except FilterError as error:
        kept = {k: v for k, v in fields.items() if k != "id_number"}  # never echo an ID back
        try:
            base = CallFilter.parse(kept)
        except FilterError:
            base = CallFilter()
        return await _page(request, base, error=str(error), status=400)
    return see_other(flt.url("/calls"))


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
