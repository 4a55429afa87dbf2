"""One call (``/calls/{id}``; JSON at ``/api/calls/{id}``): its path through the menus, outcome,
hang-up cause, recordings, voice messages and loss reports, and when the retention policy deletes
the path and each recording. Every view is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from ivr.domain.clock import local_now
from ivr.domain.retention import Fate
from ivr.store.console import RecordingView, VoiceMessageView
from ivr.store.views import CallSummary
from ivr.web.plumbing.auditing import audit
from ivr.web.plumbing.errors import Refusal
from ivr.web.plumbing.i18n import _l
from ivr.web.plumbing.roles import SUPERVISORS
from ivr.web.plumbing.routing import Routes
from ivr.web.retention import path_fate, recording_fate
from ivr.web.serialize import detail_json
from ivr.web.state import console

__all__ = ["routes"]

routes = Routes()


@dataclass(frozen=True)
class _Detail:
    call: CallSummary
    recordings: list[RecordingView]
    messages: list[VoiceMessageView]
    reports: list[str]
    path_fate: Fate  # when the retention policy deletes the path
    fates: dict[int, Fate]  # ... and each recording, by id


async def _load_call(request: web.Request, call_id: int) -> _Detail:
    """The call with what belongs to it; the view is audited. 404 when there is no such call."""
    state = console(request)
    call = await state.records.call_detail(call_id)
    if call is None:
        raise Refusal(404, _l("There is no call %(id)s.", id=call_id))
    now = local_now()
    recordings = await state.calls.call_recordings(call_id, today=now.date())
    messages = await state.calls.call_voice_messages(call_id)
    reports = await state.calls.call_reports(call_id)
    await audit(
        request,
        "view_call",
        target=f"call:{call_id}",
        detail=f"{call.hotline} {call.started_at.isoformat(timespec='seconds')}",
    )
    policy = state.retention
    return _Detail(
        call,
        recordings,
        messages,
        reports,
        path_fate=path_fate(policy, call, now),
        fates={r.id: recording_fate(policy, r, now) for r in recordings},
    )


@routes.get("/calls/{call_id:id}", roles=SUPERVISORS)
async def call_page(request: web.Request) -> web.StreamResponse:
    found = await _load_call(request, int(request.match_info["call_id"]))
    context: dict[str, Any] = {
        "call": found.call,
        "recordings": found.recordings,
        "messages": {m.recording_id: m for m in found.messages},
        "reports": found.reports,
        "path_fate": found.path_fate,
        "fates": found.fates,
    }
    return aiohttp_jinja2.render_template("call.html", request, context)


@routes.get("/api/calls/{call_id:id}", roles=SUPERVISORS)
async def call_api(request: web.Request) -> web.StreamResponse:
    found = await _load_call(request, int(request.match_info["call_id"]))
    return web.json_response(
        detail_json(
            found.call,
            found.recordings,
            found.messages,
            found.reports,
            path_fate=found.path_fate,
            fates=found.fates,
        )
    )
