"""Health for operators and load balancers: ``/healthz`` (the process answers) and ``/readyz``
(the console can serve: the database answers and, where an AMI bridge tells, Asterisk is up).

Readiness is decided by ``ivr.ops.readiness``, the one rule every ``/readyz`` follows (the
node's ops server too). Both are public and say nothing personal: a monitoring probe has no
account.
"""

from __future__ import annotations

from aiohttp import web

from ivr.ops.readiness import Readiness
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
    report = await Readiness(database=state.records.db.ping, live=state.live).check()
    return web.json_response(report.body(), status=report.http_status)
