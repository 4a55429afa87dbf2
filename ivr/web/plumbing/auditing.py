"""Writing the audit log from a request: who (the session's user), from where, what, on what."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from ivr.store.types import utcnow
from ivr.web.state import console, session_of

__all__ = ["audit", "staff_actor"]


async def audit(
    request: web.Request,
    action: str,
    *,
    target: str = "",
    detail: str = "",
    actor: str | None = None,
    role: str | None = None,
    once_within: timedelta | None = None,
) -> None:
    """Add an entry; ``actor`` and ``role`` default to the logged-in user's (given for log-in
    attempts); ``once_within``: not again for the same user, action and target within that."""
    session = session_of(request)
    now = utcnow()
    await console(request).audit.record(
        action,
        actor=actor if actor is not None else (session.user.username if session else "-"),
        role=role if role is not None else (session.user.role.value if session else ""),
        target=target,
        detail=detail,
        remote=request.remote or "",
        now=now,
        unless_since=None if once_within is None else now - once_within,
    )


def staff_actor(request: web.Request) -> str:
    """How a case's history names the user: ``staff:<username>``."""
    session = session_of(request)
    if session is None:
        raise RuntimeError("a case action needs a logged-in user")
    return f"staff:{session.user.username}"
