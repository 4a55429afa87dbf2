"""The audit log (``/audit``, auditors only): newest first, filtered by action or user."""

from __future__ import annotations

import re
from collections.abc import Mapping
from math import ceil
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from ivr.web.plumbing.errors import Refusal
from ivr.web.plumbing.i18n import TextError, _l
from ivr.web.plumbing.paging import MAX_PAGE, whole_number
from ivr.web.plumbing.roles import AUDITORS
from ivr.web.plumbing.routing import Routes
from ivr.web.serialize import audit_json
from ivr.web.state import console

__all__ = ["WORD_PATTERN", "routes"]

PER_PAGE = 100
WORD_PATTERN = r"[A-Za-z0-9_.@:-]{1,64}"  # an action or a user name, as filters
_WORD = re.compile(WORD_PATTERN)

routes = Routes()


def _query(params: Mapping[str, str]) -> tuple[str, str, int]:
    action, actor = params.get("action", ""), params.get("actor", "")
    if (action and not _WORD.fullmatch(action)) or (actor and not _WORD.fullmatch(actor)):
        raise Refusal(400, _l("An action or a user name is 1 to 64 letters, digits or _.@:-"))
    try:
        page = whole_number(params.get("page", ""), "page", default=1, low=1, high=MAX_PAGE)
    except TextError as error:
        raise Refusal(400, error.text) from None
    return action, actor, page


@routes.get("/audit", roles=AUDITORS, menu=_l("Audit log"))
async def audit_page(request: web.Request) -> web.StreamResponse:
    typed = {name: value.strip() for name, value in request.query.items()}  # the filter form
    action, actor, page = _query(typed)
    log = console(request).audit
    total, entries = await log.entries(
        limit=PER_PAGE, offset=(page - 1) * PER_PAGE, action=action or None, actor=actor or None
    )
    context: dict[str, Any] = {
        "entries": entries,
        "total": total,
        "page": page,
        "pages": max(1, ceil(total / PER_PAGE)),
        "action": action,
        "actor": actor,
        "actions": await log.actions(),
    }
    return aiohttp_jinja2.render_template("audit.html", request, context)


@routes.get("/api/audit", roles=AUDITORS)
async def audit_api(request: web.Request) -> web.StreamResponse:
    action, actor, page = _query(request.query)
    total, entries = await console(request).audit.entries(
        limit=PER_PAGE, offset=(page - 1) * PER_PAGE, action=action or None, actor=actor or None
    )
    return web.json_response(
        {"total": total, "page": page, "entries": [audit_json(e) for e in entries]}
    )
