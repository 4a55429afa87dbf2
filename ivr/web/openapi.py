"""The OpenAPI 3.1 description of ``/api/`` (hand-written: the API is small and changes rarely)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ivr.domain.clock import DAY_PATTERN, FIRST_DAY, LAST_DAY
from ivr.domain.hotlines import HOTLINES
from ivr.domain.retention import Hold
from ivr.live.board import Stage
from ivr.store.types import ROW_ID_MAX
from ivr.web.audit import WORD_PATTERN
from ivr.web.calls.filters import (
    CALLER_PATTERN,
    DEFAULT_PER_PAGE,
    ID_HASH_PATTERN,
    MAX_PER_PAGE,
    OUTCOMES,
)
from ivr.web.calls.log import PAGING, SEARCH_FIELDS
from ivr.web.plumbing.paging import MAX_PAGE
from ivr.web.plumbing.roles import ALL_ROLES
from ivr.web.plumbing.routing import Routes
from ivr.web.stats.page import DEFAULT_DAYS, MAX_DAYS

__all__ = ["SPEC", "routes"]

routes = Routes()


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _q(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "allowEmptyValue": True,  # empty is as if not given (a form's empty field)
        "description": description,
        "schema": schema or {"type": "string"},
    }


_STR = {"type": "string"}
_NSTR = {"type": ["string", "null"]}
_NINT = {"type": ["integer", "null"]}
_TIME = {"type": "string", "format": "date-time"}
_NTIME = {"type": ["string", "null"], "format": "date-time"}
_NDATE = {"type": ["string", "null"], "format": "date"}
# A call as ``ivr.store.serialize.call_json`` makes it; ``path`` only when read with its steps.
_CALL: dict[str, Any] = {
    "id": {"type": "integer"},
    "hotline": _STR,
    "caller_id": _STR,
    "uniqueid": {"type": "string", "description": "Asterisk's channel unique ID"},
    "channel": _STR,
    "started_at": _TIME,
    "ended_at": _NTIME,
    "language": _STR,
    "outcome": _NSTR,
    "last_node": _NSTR,
    "next_action": _NSTR,
    "id_masked": _NSTR,
    "hangup_cause": _NINT,
    "hangup_cause_text": _NSTR,
    "duration_s": {
        "type": ["number", "null"],
        "description": "Asterisk's duration when known, else end minus start",
    },
    "path_deleted_at": {
        "type": ["string", "null"],
        "format": "date-time",
        "description": "when the retention policy deleted the call's steps",
    },
    "path": {
        "type": "array",
        "description": "the call's steps in order (not in a page of the log)",
        "items": _ref("Step"),
    },
}
_ERRORS = {
    "401": _ok(_ref("Error"), "not logged in"),
    "403": _ok(_ref("Error"), "the role has no access (or a missing/wrong CSRF token on a POST)"),
}
_BAD = {"400": _ok(_ref("Error"), "a parameter cannot be used; the error says why")}
_DAY = {"type": "string", "format": "date", "pattern": f"^{DAY_PATTERN}$"}
_PAGE = {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}
# The call log's filters: query parameters of GET /api/calls, fields of POST /api/calls/search.
_FILTER_FIELDS: dict[str, tuple[str, dict[str, Any]]] = {
    "from": (f"first local day (China Standard Time), {FIRST_DAY} to {LAST_DAY}", _DAY),
    "to": ("last local day, included", _DAY),
    "hotline": (" or ".join(HOTLINES), {"type": "string", "enum": list(HOTLINES)}),
    "outcome": (", ".join(OUTCOMES), {"type": "string", "enum": list(OUTCOMES)}),
    "caller": (
        "the first digits of the calling number",
        {"type": "string", "pattern": f"^{CALLER_PATTERN}$"},
    ),
    "idh": (
        "ID reference returned by /api/calls/search (a keyed hash, not the ID number)",
        {"type": "string", "pattern": f"^{ID_HASH_PATTERN}$"},
    ),
    "page": ("page number from 1", _PAGE),
    "per_page": (
        f"calls per page (default {DEFAULT_PER_PAGE})",
        {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
    ),
}
_FILTERS = [_q(name, text, **schema) for name, (text, schema) in _FILTER_FIELDS.items()]
_ID_NUMBER = "a full resident ID number (18 characters, or the old 15 digits)"


def _search_field(name: str) -> dict[str, Any]:
    """A field of the search body; a string may be empty: not given, as in a form."""
    why, schema = (_ID_NUMBER, _STR) if name == "id_number" else _FILTER_FIELDS[name]
    if schema["type"] != "string" or schema is _STR:
        return {**schema, "description": why}
    return {"description": f"{why}; empty: no filter", "anyOf": [schema, {"const": ""}]}


_SEARCH = {
    "type": "object",
    "properties": {name: _search_field(name) for name in (*SEARCH_FIELDS, *PAGING)},
}

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Hotline supervisor console API",
        "version": "1",
        "description": (
            "Read the call log, live calls, card cases and statistics of the 12333 and 96102 "
            "hotlines; move card cases forward. Authentication is the console's session cookie "
            "(log in at /login); a POST also needs the X-CSRF-Token header from /api/session. "
            "ID numbers appear only masked; a full ID number is accepted only in the body of "
            "POST /api/calls/search and is never stored."
        ),
    },
    "components": {
        "securitySchemes": {
            "session": {"type": "apiKey", "in": "cookie", "name": "hotline_session"},
            "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"},
        },
        "schemas": {
            "Call": {
                "type": "object",
                "description": "A call, as `hotline calls --json` prints it too",
                "required": [name for name in _CALL if name != "path"],
                "properties": _CALL,
            },
            "Step": {
                "type": "object",
                "required": ["at", "node", "kind", "key", "detail"],
                "properties": {
                    "at": _TIME,
                    "node": _STR,
                    "kind": _STR,
                    "key": {"type": ["string", "null"], "description": "*** for sensitive entries"},
                    "detail": _STR,
                },
            },
            "Retention": {
                "type": "object",
                "description": "When the retention policy deletes (or deleted) a recording or a "
                "call's path",
                "required": ["deleted_at", "due_at", "held", "deletion"],
                "properties": {
                    "deleted_at": _NTIME,
                    "due_at": {
                        "type": ["string", "null"],
                        "format": "date-time",
                        "description": "its retention ends (null: kept for ever, or deleted)",
                    },
                    "held": {
                        "type": ["string", "null"],
                        "enum": [*(h.value for h in Hold), None],
                        "description": "kept past due_at while its loss report is open or its "
                        "voice message waits for a call-back",
                    },
                    "deletion": {
                        "type": ["string", "null"],
                        "format": "date-time",
                        "description": "the daily prune that will delete it (null: not planned)",
                    },
                },
            },
            "CallPage": {
                "type": "object",
                "properties": {
                    "total": {"type": "integer"},
                    "page": {"type": "integer"},
                    "per_page": {"type": "integer"},
                    "pages": {"type": "integer"},
                    "idh": _NSTR,
                    "id_masked": _NSTR,
                    "calls": {"type": "array", "items": _ref("Call")},
                },
            },
            "CallDetail": {
                "description": "A call with its path, and what belongs to it",
                "allOf": [
                    _ref("Call"),
                    {
                        "type": "object",
                        "required": [
                            "path",
                            "path_retention",
                            "recordings",
                            "voice_messages",
                            "loss_reports",
                        ],
                        "properties": {
                            "path_retention": _ref("Retention"),
                            "recordings": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["id", "url", "retention"],
                                    "properties": {
                                        "id": {"type": "integer"},
                                        "kind": _STR,
                                        "duration_s": {"type": "number"},
                                        "created_at": _TIME,
                                        "url": {
                                            "type": ["string", "null"],
                                            "description": "null once deleted",
                                        },
                                        "retention": _ref("Retention"),
                                    },
                                },
                            },
                            "voice_messages": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "recording_id": {"type": "integer"},
                                        "callback_number": _STR,
                                        "created_at": _TIME,
                                        "handled_at": _NTIME,
                                    },
                                },
                            },
                            "loss_reports": {"type": "array", "items": _STR},
                        },
                    },
                ],
            },
            "Case": {
                "type": "object",
                "properties": {
                    "reference": _STR,
                    "status": {
                        "type": "string",
                        "enum": [
                            "provisional",
                            "needs_verification",
                            "lifted",
                            "lapsed",
                            "formal",
                            "card_made",
                            "picked_up",
                        ],
                    },
                    "id_masked": _STR,
                    "reported_at": _TIME,
                    "lapses_on": _NDATE,
                    "pickup_on": _NDATE,
                    "verified": {"type": "boolean"},
                    "call_id": _NINT,
                    "statement_url": {
                        "type": ["string", "null"],
                        "description": "the recorded statement (null: none, or deleted)",
                    },
                    "statement_retention": {
                        "oneOf": [_ref("Retention"), {"type": "null"}],
                    },
                    "card": {"type": ["object", "null"]},
                    "events": {"type": "array", "items": {"type": "object"}},
                },
            },
            "LiveCalls": {
                "type": "object",
                "properties": {
                    "source": {"type": "string", "enum": ["board", "database"]},
                    "at": _TIME,
                    "telephony": {
                        "type": ["object", "null"],
                        "properties": {
                            "up": {"type": "boolean"},
                            "since": _TIME,
                            "reason": _STR,
                        },
                    },
                    "counts": {
                        "type": "object",
                        "additionalProperties": {"type": "integer"},
                        "description": "calls in progress per hotline (not those being refused)",
                    },
                    "refused": {
                        "type": "object",
                        "description": "calls refused because the node was full (lines busy), "
                        "per hotline, in the last `minutes`",
                        "properties": {
                            "minutes": {"type": "integer"},
                            "counts": {
                                "type": "object",
                                "additionalProperties": {"type": "integer"},
                            },
                            "total": {"type": "integer"},
                        },
                    },
                    "calls": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "key": _STR,
                                "hotline": _STR,
                                "stage": {"type": "string", "enum": [s.value for s in Stage]},
                                "where": _STR,
                                "node": _NSTR,
                                "queue": _NSTR,
                                "agent": _NSTR,
                                "call_id": _NINT,
                                "caller_id": _STR,
                                "language": _NSTR,
                                "started_at": _TIME,
                                "seconds": {"type": "number"},
                                "waiting_seconds": {"type": ["number", "null"]},
                            },
                        },
                    },
                },
            },
            "Error": {"type": "object", "properties": {"error": _STR}},
        },
    },
    "security": [{"session": []}],
    "paths": {
        "/api/session": {
            "get": {
                "summary": "The logged-in user, role and CSRF token",
                "responses": {"200": _ok({"type": "object"}), **_ERRORS},
            }
        },
        "/api/calls": {
            "get": {
                "summary": "Call log, filtered and paged, newest first (supervisor)",
                "description": "400 also when `from` is after `to`.",
                "parameters": _FILTERS,
                "responses": {"200": _ok(_ref("CallPage")), **_BAD, **_ERRORS},
            }
        },
        "/api/calls/search": {
            "post": {
                "summary": "Call log searched by a full ID number (supervisor; audited, masked)",
                "security": [{"session": [], "csrf": []}],
                "description": "400 also for an invalid ID number, or `from` after `to`.",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _SEARCH}},
                },
                "responses": {"200": _ok(_ref("CallPage")), **_BAD, **_ERRORS},
            }
        },
        "/api/calls/{call_id}": {
            "get": {
                "summary": "One call with its path and recordings (supervisor; audited)",
                "parameters": [
                    {
                        "name": "call_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 1, "maximum": ROW_ID_MAX},
                    }
                ],
                "responses": {
                    "200": _ok(_ref("CallDetail")),
                    **_BAD,
                    "404": _ok(_ref("Error"), "no such call"),
                    **_ERRORS,
                },
            }
        },
        "/api/cases": {
            "get": {
                "summary": "Open loss reports and those closed in the last 7 days (staff)",
                "responses": {
                    "200": _ok(
                        {
                            "type": "object",
                            "properties": {"cases": {"type": "array", "items": _ref("Case")}},
                        }
                    ),
                    **_ERRORS,
                },
            }
        },
        "/api/cases/{reference}/{action}": {
            "post": {
                "summary": "A counter step on a loss report (staff; audited)",
                "security": [{"session": [], "csrf": []}],
                "parameters": [
                    {"name": "reference", "in": "path", "required": True, "schema": _STR},
                    {
                        "name": "action",
                        "in": "path",
                        "required": True,
                        "schema": {
                            "type": "string",
                            "enum": ["verify", "formal", "lift", "made", "picked-up"],
                        },
                    },
                ],
                "responses": {
                    "200": _ok(_ref("Case")),
                    "404": _ok(_ref("Error")),
                    "409": _ok(_ref("Error"), "not possible in the report's state"),
                    **_ERRORS,
                },
            }
        },
        "/api/stats": {
            "get": {
                "summary": "Volumes, outcomes, transfers, handling time, containment, drop-off",
                "description": (
                    f"A period of 1 to {MAX_DAYS} days, `from` first (default: the last "
                    f"{DEFAULT_DAYS} days); 400 otherwise."
                ),
                "parameters": [p for p in _FILTERS if p["name"] in ("from", "to", "hotline")],
                "responses": {"200": _ok({"type": "object"}), **_BAD, **_ERRORS},
            }
        },
        "/api/live": {
            "get": {
                "summary": "Calls in progress (supervisor)",
                "responses": {"200": _ok(_ref("LiveCalls")), **_ERRORS},
            }
        },
        "/api/live/stream": {
            "get": {
                "summary": "Calls in progress as server-sent events (event `calls`, LiveCalls)",
                "responses": {
                    "200": {
                        "description": "an event stream",
                        "content": {
                            "text/event-stream": {
                                "schema": {
                                    "description": "one event: the whole list, as JSON",
                                    "type": "object",
                                    "required": ["event", "data"],
                                    "properties": {
                                        "event": {"const": "calls"},
                                        "data": {
                                            "type": "string",
                                            "contentMediaType": "application/json",
                                            "contentSchema": _ref("LiveCalls"),
                                        },
                                    },
                                }
                            }
                        },
                    },
                    **_ERRORS,
                },
            }
        },
        "/api/audit": {
            "get": {
                "summary": "The audit log, newest first (auditor)",
                "parameters": [
                    _q("action", "only this action", type="string", pattern=f"^{WORD_PATTERN}$"),
                    _q("actor", "only this user", type="string", pattern=f"^{WORD_PATTERN}$"),
                    _q("page", "page number from 1", **_PAGE),
                ],
                "responses": {"200": _ok({"type": "object"}), **_BAD, **_ERRORS},
            }
        },
    },
}


@routes.get("/api/openapi.json", roles=ALL_ROLES)
async def openapi(request: web.Request) -> web.StreamResponse:
    return web.json_response(SPEC)
