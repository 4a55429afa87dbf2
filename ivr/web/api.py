"""The JSON API under ``/api/`` (described at ``/api/openapi.json``): same session, same roles.

A POST needs the session's CSRF token in the ``X-CSRF-Token`` header (``GET /api/session`` gives
it). An ID number is sent only in a POST body (``/api/calls/search``), never in a URL.
"""

from __future__ import annotations

from math import ceil
from typing import Any

from aiohttp import web

from ivr.domain.clock import local_now
from ivr.web.calls.detail import load_call
from ivr.web.calls.filters import CallFilter, FilterError
from ivr.web.calls.log import search_by_form
from ivr.web.cases.page import CLOSED_SHOWN, CaseActionError, perform
from ivr.web.plumbing.roles import ALL_ROLES, CASEWORK, SUPERVISORS
from ivr.web.plumbing.routing import Routes
from ivr.web.serialize import call_json, case_json, detail_json
from ivr.web.state import console, session_of

__all__ = ["routes"]


routes = Routes()


@routes.get("/api/session", roles=ALL_ROLES)
async def session_info(request: web.Request) -> web.StreamResponse:
    session = session_of(request)
    assert session is not None
    return web.json_response(
        {
            "username": session.user.username,
            "role": session.user.role.value,
            "csrf_token": session.csrf_token,
            "expires_at": session.expires_at.isoformat(),
        }
    )


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
            "calls": [call_json(c) for c in calls],
        }
    )


def _bad(error: Exception) -> web.Response:
    return web.json_response({"error": str(error)}, status=400)


@routes.get("/api/calls", roles=SUPERVISORS)
async def calls(request: web.Request) -> web.StreamResponse:
    try:
        flt = CallFilter.parse(request.query)
    except FilterError as error:
        return _bad(error)
    return await _calls_json(request, flt)


@routes.post("/api/calls/search", roles=SUPERVISORS)
async def search(request: web.Request) -> web.StreamResponse:
    try:
        body: Any = await request.json()
    except ValueError:
        return _bad(ValueError("the body is not JSON"))
    if not isinstance(body, dict):
        return _bad(ValueError("the body is a JSON object"))
    fields = {str(k): str(v) for k, v in body.items() if v is not None}
    try:
        flt = await search_by_form(request, fields)
    except FilterError as error:
        return _bad(error)
    return await _calls_json(request, flt)


@routes.get(r"/api/calls/{call_id:\d+}", roles=SUPERVISORS)
async def call(request: web.Request) -> web.StreamResponse:
    try:
        found = await load_call(request, int(request.match_info["call_id"]))
    except web.HTTPNotFound:
        return web.json_response({"error": "no such call"}, status=404)
    return web.json_response(detail_json(*found))


@routes.get("/api/cases", roles=CASEWORK)
async def cases(request: web.Request) -> web.StreamResponse:
    now = local_now()
    found = await console(request).calls.cases(today=now.date(), closed_since=now - CLOSED_SHOWN)
    return web.json_response({"cases": [case_json(c) for c in found]})


@routes.post(r"/api/cases/{reference:\d{1,12}}/{action}", roles=CASEWORK)
async def case_action(request: web.Request) -> web.StreamResponse:
    try:
        case = await perform(request, request.match_info["reference"], request.match_info["action"])
    except CaseActionError as error:
        return web.json_response({"error": str(error)}, status=409)
    except web.HTTPNotFound as error:
        return web.json_response({"error": error.text}, status=404)
    return web.json_response(case_json(case))
