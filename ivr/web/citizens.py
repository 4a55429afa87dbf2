"""Lifting a citizen's phone-query lock at the counter (``/citizens/unlock``, staff and
supervisors).

Three wrong query passwords lock a person's phone queries for a day (``password_lock_hours``).
A person at the counter whose identity staff have checked (their ID card) need not wait: staff
type the ID number, confirm the check and give a reason; the lock lifts and the wrong-password
count starts again. The number is hashed and forgotten (never echoed back, never stored or
logged whole); the audit log and the citizen's security events keep the masked number, the
reason and who did it.
"""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from ivr.domain.clock import local_today
from ivr.domain.idnumber import IdNumberError, id_hash, mask_ids_in_text, parse_id
from ivr.store.types import utcnow
from ivr.web.plumbing.auditing import audit
from ivr.web.plumbing.i18n import Text, _l
from ivr.web.plumbing.labels import ID_PROBLEMS
from ivr.web.plumbing.roles import CASEWORK
from ivr.web.plumbing.routing import Routes
from ivr.web.state import console, session_of

__all__ = ["REASON_LEN", "routes"]

REASON_LEN = 200

routes = Routes()


def _page(
    request: web.Request,
    *,
    error: Text | None = None,
    done: Text | None = None,
    reason: str = "",
    status: int = 200,
) -> web.Response:
    context: dict[str, Any] = {
        "error": error,
        "done": done,
        "reason": reason,
        "reason_len": REASON_LEN,
    }
    return aiohttp_jinja2.render_template("unlock.html", request, context, status=status)


@routes.get("/citizens/unlock", roles=CASEWORK, menu=_l("Phone-query unlock"))
async def unlock_page(request: web.Request) -> web.StreamResponse:
    return _page(request)


@routes.post("/citizens/unlock", roles=CASEWORK)
async def unlock(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    typed = str(form.get("id_number", "")).strip()
    reason = mask_ids_in_text(str(form.get("reason", "")).strip())[:REASON_LEN]
    if form.get("identity_checked") != "yes":
        return _page(
            request, error=_l("Check the person's ID card first."), reason=reason, status=400
        )
    if not reason:
        return _page(request, error=_l("Give the reason for lifting the lock."), status=400)
    try:
        resident = parse_id(typed, today=local_today())
    except IdNumberError as error:
        why = _l("Not a valid ID number: %(problem)s.", problem=ID_PROBLEMS[error.problem])
        return _page(request, error=why, reason=reason, status=400)
    session = session_of(request)
    assert session is not None  # the route's roles
    state = console(request)
    found = await state.records.unlock_phone_queries(
        id_hash(state.id_key, resident),
        by=f"staff:{session.user.username}",
        reason=reason,
        now=utcnow(),
    )
    target = f"citizen:{resident.masked}"
    if found is None:
        await audit(request, "citizen_unlock", target=target, detail=f"refused: unknown; {reason}")
        why = _l("No insured person has the ID number %(masked)s.", masked=resident.masked)
        return _page(request, error=why, reason=reason, status=404)
    masked, lock = found
    was = "was locked until " + lock.isoformat() if lock else "was not locked"
    await audit(request, "citizen_unlock", target=target, detail=f"{was}; reason: {reason}")
    if lock is None:
        done = _l(
            "%(masked)s was not locked; the wrong-password count starts again.", masked=masked
        )
    else:
        done = _l(
            "Phone queries of %(masked)s unlocked (they were locked until %(until)s).",
            masked=masked,
            until=lock,
        )
    return _page(request, done=done)
