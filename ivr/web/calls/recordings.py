"""A call's recording as the browser plays it (``/recordings/{id}``), audited once per playback.

Counter staff may play only the recorded statements of loss reports (they need them to verify a
report) and the voice messages (the call-back queue is theirs); supervisors any recording. A
recording the retention policy deleted is 410 Gone.
"""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from ivr.store.users import Role
from ivr.web.calls.audio import AudioError, keep_copy, playable
from ivr.web.plumbing.auditing import audit
from ivr.web.plumbing.errors import Refusal, forbidden
from ivr.web.plumbing.i18n import _l
from ivr.web.plumbing.roles import CASEWORK
from ivr.web.plumbing.routing import Routes
from ivr.web.state import console, session_of

__all__ = ["REPLAY_WINDOW", "routes"]

# A browser fetches one recording in several requests (and again on seeking): one play per minute.
REPLAY_WINDOW = timedelta(minutes=1)

routes = Routes()


def _from_start(request: web.Request) -> bool:
    """A request that starts a playback (not the browser's follow-up range requests)."""
    wanted = request.headers.get("Range", "").replace(" ", "")
    return wanted == "" or wanted.startswith("bytes=0-")


@routes.get("/recordings/{recording_id:id}", roles=CASEWORK)
async def recording(request: web.Request) -> web.StreamResponse:
    state = console(request)
    recording_id = int(request.match_info["recording_id"])
    found = await state.calls.recording(recording_id)
    if found is None:
        raise Refusal(404, _l("There is no recording %(id)s.", id=recording_id))
    session = session_of(request)
    staff = session is not None and session.user.role is Role.STAFF
    if (
        staff
        and found.kind != "voice_message"  # the call-back queue is theirs
        and not await state.calls.is_case_statement(recording_id)
    ):
        return await forbidden(
            request,
            _l("Counter staff may play the statements of card cases and voice messages only."),
        )
    if found.deleted_at is not None:
        raise Refusal(
            410,
            _l(
                "Recording %(id)s was deleted under the retention policy on %(day)s.",
                id=recording_id,
                day=found.deleted_at,
            ),
        )
    if _from_start(request):
        await audit(
            request,
            "play_recording",
            target=f"recording:{recording_id}",
            detail=f"{found.kind} of call {found.call_id}",
            once_within=REPLAY_WINDOW,
        )
    copy = state.settings.recording_playback_copy(recording_id)
    try:
        path = await playable(state.settings.data_dir, found.path, copy)
    except AudioError as error:
        # Recorded on another node: its sound was kept in the shared database.
        archived = await state.calls.recording_audio(recording_id)
        if archived is None:
            raise Refusal(404, error.text) from None
        path = await keep_copy(archived, copy)
    return web.FileResponse(
        path, headers={"Content-Type": "audio/wav", "Cache-Control": "no-store"}
    )
