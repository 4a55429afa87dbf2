"""The OpenAPI 3.1 description of ``/api/`` (hand-written: the API is small and changes rarely)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ivr.domain.hotlines import HOTLINES
from ivr.domain.retention import Hold
from ivr.live.board import Stage
from ivr.web.plumbing.roles import ALL_ROLES
from ivr.web.plumbing.routing import Routes

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
    "401": {"description": "not logged in"},
    "403": {"description": "the role has no access (or a missing/wrong CSRF token on a POST)"},
}
_FILTERS = [
    _q("from", "first local day (YYYY-MM-DD, China Standard Time)", type="string", format="date"),
    _q("to", "last local day, included", type="string", format="date"),
    _q("hotline", " or ".join(HOTLINES), type="string", enum=list(HOTLINES)),
    _q("outcome", "served, agent, voice_message, failed, abandoned, error"),
    _q("caller", "part of the calling number"),
    _q("idh", "ID reference returned by /api/calls/search (a keyed hash, not the ID number)"),
    _q("page", "page number from 1", type="integer", minimum=1),
    _q("per_page", "calls per page (at most 200)", type="integer", minimum=1, maximum=200),
]

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
                    "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
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
                "parameters": _FILTERS,
                "responses": {"200": _ok(_ref("CallPage")), "400": _ok(_ref("Error")), **_ERRORS},
            }
        },
        "/api/calls/search": {
            "post": {
                "summary": "Call log searched by a full ID number (supervisor; audited, masked)",
                "security": [{"session": [], "csrf": []}],
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "id_number": _STR,
                                    "from": _STR,
                                    "to": _STR,
                                    "hotline": _STR,
                                    "outcome": _STR,
                                    "caller": _STR,
                                    "page": {"type": "integer"},
                                },
                            }
                        }
                    }
                },
                "responses": {"200": _ok(_ref("CallPage")), "400": _ok(_ref("Error")), **_ERRORS},
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
                        "schema": {"type": "integer"},
                    }
                ],
                "responses": {"200": _ok(_ref("CallDetail")), "404": _ok(_ref("Error")), **_ERRORS},
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
                "parameters": [_FILTERS[0], _FILTERS[1], _FILTERS[2]],
                "responses": {"200": _ok({"type": "object"}), **_ERRORS},
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
                        "content": {"text/event-stream": {"schema": {"type": "string"}}},
                    },
                    **_ERRORS,
                },
            }
        },
        "/api/audit": {
            "get": {
                "summary": "The audit log, newest first (auditor)",
                "parameters": [
                    _q("action", "only this action"),
                    _q("actor", "only this user"),
                    _q("page", "page number from 1", type="integer", minimum=1),
                ],
                "responses": {"200": _ok({"type": "object"}), **_ERRORS},
            }
        },
    },
}


@routes.get("/api/openapi.json", roles=ALL_ROLES)
async def openapi(request: web.Request) -> web.StreamResponse:
    return web.json_response(SPEC)
