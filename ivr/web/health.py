"""Health for operators and load balancers: ``/healthz`` (the process answers) and ``/readyz``
(calls can be taken: the database answers and, where an AMI bridge tells, Asterisk is up).

Both are public and say nothing personal: a monitoring probe has no account.
"""

from __future__ import annotations

from aiohttp import web

from ivr.web.plumbing.routing import Routes
from ivr.web.state import console

__all__ = ["routes"]

routes = Routes()


@routes.get("/healthz", public=True)
async def healthz(request: web.Request) -> web.StreamResponse:
    return web.json_response({"status": "ok"})


@routes.get("/readyz", public=True)
async def readyz(request: web.Request) -> web.StreamResponse:
    state = console(request)
    database = await state.records.db.ping()
    telephony = (await state.live.snapshot()).telephony
    parts = {
        "database": "up" if database else "down",
        "telephony": "unknown" if telephony is None else ("up" if telephony.up else "down"),
    }
    ready = database and (telephony is None or telephony.up)
    body = {"ready": ready, **parts}
    if telephony is not None and not telephony.up:
        body["telephony_down_since"] = telephony.since.isoformat()
        body["telephony_reason"] = telephony.reason
    return web.json_response(body, status=200 if ready else 503)
