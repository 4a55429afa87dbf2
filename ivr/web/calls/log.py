"""The call log: filtered and paged (``/calls``; JSON at ``/api/calls``), searched by ID number.

The filter form posts (with its CSRF token) and is redirected to the ``GET`` page, so a typed ID
number is hashed on the server and never appears in a URL; an ID search is audited (masked). The
API takes a full ID number only in a POST body (``/api/calls/search``).
"""

from __future__ import annotations

from math import ceil
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from ivr.domain.hotlines import HOTLINES
from ivr.store.serialize import call_json
from ivr.web.calls.filters import OUTCOMES, CallFilter, FilterError
from ivr.web.plumbing.auditing import audit
from ivr.web.plumbing.errors import error_response
from ivr.web.plumbing.i18n import Text, TextError, _l
from ivr.web.plumbing.roles import SUPERVISORS
from ivr.web.plumbing.routing import Routes, see_other
from ivr.web.state import console

__all__ = ["PAGING", "SEARCH_FIELDS", "routes"]

# The fields of a search (POST /api/calls/search): the typed ID number and the filters; paging.
SEARCH_FIELDS = ("id_number", "from", "to", "hotline", "outcome", "caller", "idh")
PAGING = ("page", "per_page")

routes = Routes()


async def _page(
    request: web.Request, flt: CallFilter, *, error: Text | None = None, status: int = 200
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


@routes.get("/calls", roles=SUPERVISORS, menu=_l("Call log"))
async def call_log(request: web.Request) -> web.StreamResponse:
    try:
        flt = CallFilter.parse(request.query)
    except FilterError as error:
        return await _page(request, CallFilter(), error=error.text, status=400)
    return await _page(request, flt)


async def _search_by_form(request: web.Request, fields: dict[str, str]) -> CallFilter:
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
    fields = {k: v.strip() for k, v in form.items() if isinstance(v, str)}  # as typed
    fields.pop("page", None)
    try:
        flt = await _search_by_form(request, fields)
    except FilterError as error:
        kept = {k: v for k, v in fields.items() if k != "id_number"}  # never echo an ID back
        try:
            base = CallFilter.parse(kept)
        except FilterError:
            base = CallFilter()
        return await _page(request, base, error=error.text, status=400)
    return see_other(flt.url("/calls"))


async def _calls_json(request: web.Request, flt: CallFilter) -> web.Response:
    total, calls = await console(request).calls.search_calls(
        flt.query(), limit=flt.per_page, offset=flt.offset
    )
    return web.json_response(
        {
            "total": total,
            "page": flt.page,
            "per_page": flt.per_page,
            "pages": max(1, ceil(total / flt.per_page)),
            "idh": flt.idh or None,
            "id_masked": flt.idm or None,
            "calls": [call_json(c, with_path=False) for c in calls],
        }
    )


async def _bad(request: web.Request, error: TextError) -> web.Response:
    return await error_response(request, 400, error.text)


@routes.get("/api/calls", roles=SUPERVISORS)
async def calls_api(request: web.Request) -> web.StreamResponse:
    try:
        flt = CallFilter.parse(request.query)
    except FilterError as error:
        return await _bad(request, error)
    return await _calls_json(request, flt)


def _search_fields(body: dict[str, Any]) -> dict[str, str]:
    """The search's fields as the filter reads them: the page numbers JSON numbers, the other
    fields strings (ignored: fields it does not know)."""
    fields: dict[str, str] = {}
    for name in (*SEARCH_FIELDS, *PAGING):
        if name not in body:
            continue
        value = body[name]
        if name in PAGING and (isinstance(value, bool) or not isinstance(value, int)):
            raise FilterError(_l("%(name)s is a whole number.", name=name))
        if name not in PAGING and not isinstance(value, str):
            raise FilterError(_l("%(name)s is a string.", name=name))
        fields[name] = str(value)
    return fields


@routes.post("/api/calls/search", roles=SUPERVISORS)
async def search_api(request: web.Request) -> web.StreamResponse:
    try:
        body: Any = await request.json()
    except ValueError:
        return await _bad(request, TextError(_l("The body is not JSON.")))
    if not isinstance(body, dict):
        return await _bad(request, TextError(_l("The body is a JSON object.")))
    try:
        fields = _search_fields(body)
    except FilterError as error:
        return await _bad(request, error)
    try:
        flt = await _search_by_form(request, fields)
    except FilterError as error:
        return await _bad(request, error)
    return await _calls_json(request, flt)
