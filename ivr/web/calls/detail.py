"""One call (``/calls/{id}``): its path through the menus, outcome, hang-up cause, recordings.

Viewing a call and playing a recording are audited. Counter staff may play only the recorded
statements of loss reports (they need them to verify a report); supervisors any recording.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from ivr.store.console import RecordingView, VoiceMessageView
from ivr.store.users import Role
from ivr.store.views import CallSummary
from ivr.web.calls.audio import AudioError, playable
from ivr.web.plumbing.auditing import audit
from ivr.web.plumbing.roles import CASEWORK, SUPERVISORS
from ivr.web.plumbing.routing import Routes, forbidden
from ivr.web.state import console, session_of

__all__ = ["load_call", "routes"]

# A browser fetches one recording in several requests (and again on seeking): one play per minute.
REPLAY_WINDOW = timedelta(minutes=1)

routes = Routes()


async def load_call(
    request: web.Request, call_id: int
) -> tuple[CallSummary, list[RecordingView], list[VoiceMessageView], list[str]]:
    """The call with what belongs to it; the view is audited. 404 when there is no such call."""
    state = console(request)
    call = await state.records.call_detail(call_id)
    if call is None:
        raise web.HTTPNotFound(text=f"no call {call_id}")
    recordings = await state.calls.call_recordings(call_id)
    messages = await state.calls.call_voice_messages(call_id)
    reports = await state.calls.call_reports(call_id)
    await audit(
        request,
        "view_call",
        target=f"call:{call_id}",
        detail=f"{call.hotline} {call.started_at.isoformat(timespec='seconds')}",
    )
    return call, recordings, messages, reports


@routes.get(r"/calls/{call_id:\d+}", roles=SUPERVISORS)
async def call_page(request: web.Request) -> web.StreamResponse:
    call, recordings, messages, reports = await load_call(
        request, int(request.match_info["call_id"])
    )
    context: dict[str, Any] = {
        "call": call,
        "recordings": recordings,
        "messages": {m.recording_id: m for m in messages},
        "reports": reports,
    }
    return aiohttp_jinja2.render_template("call.html", request, context)


def _from_start(request: web.Request) -> bool:
    """A request that starts a playback (not the browser's follow-up range requests)."""
    wanted = request.headers.get("Range", "").replace(" ", "")
    return wanted == "" or wanted.startswith("bytes=0-")


@routes.get(r"/recordings/{recording_id:\d+}", roles=CASEWORK)
async def recording(request: web.Request) -> web.StreamResponse:
    state = console(request)
    recording_id = int(request.match_info["recording_id"])
    found = await state.calls.recording(recording_id)
    if found is None:
        raise web.HTTPNotFound(text=f"no recording {recording_id}")
    session = session_of(request)
    staff = session is not None and session.user.role is Role.STAFF
    if staff and not await state.calls.is_case_statement(recording_id):
        return forbidden(request, "counter staff may play the statements of card cases only")
    if _from_start(request):
        await audit(
            request,
            "play_recording",
            target=f"recording:{recording_id}",
            detail=f"{found.kind} of call {found.call_id}",
            once_within=REPLAY_WINDOW,
        )
    try:
        path = await playable(state.settings.data_dir, found.path, f"recording-{recording_id}")
    except AudioError as error:
        raise web.HTTPNotFound(text=str(error)) from None
    return web.FileResponse(
        path, headers={"Content-Type": "audio/wav", "Cache-Control": "no-store"}
    )
