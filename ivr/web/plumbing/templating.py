"""What every template gets: the user, the CSRF token, the menu for the user's role, filters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from ivr.domain.cards import mask_card
from ivr.domain.clock import duration, stamp
from ivr.store.users import Role
from ivr.web.plumbing.csrf import CSRF_FIELD
from ivr.web.state import session_of

__all__ = ["MENU", "context_processor", "filters"]

# (path, label, roles that see it)
MENU: tuple[tuple[str, str, frozenset[Role]], ...] = (
    ("/live", "Live calls", frozenset({Role.SUPERVISOR})),
    ("/calls", "Call log", frozenset({Role.SUPERVISOR})),
    ("/cases", "Card cases", frozenset({Role.SUPERVISOR, Role.STAFF})),
    ("/stats", "Statistics", frozenset({Role.SUPERVISOR})),
    ("/prompts", "Prompts", frozenset({Role.SUPERVISOR})),
    ("/audit", "Audit log", frozenset({Role.AUDITOR})),
)


async def context_processor(request: web.Request) -> dict[str, Any]:
    session = session_of(request)
    user = session.user if session else None
    return {
        "user": user,
        "csrf_field": CSRF_FIELD,
        "csrf_token": session.csrf_token if session else "",
        "menu": [(p, label) for p, label, roles in MENU if user and user.role in roles],
        "current_path": request.path,
    }


def _node(name: str | None) -> str:
    """``card_services:loss_confirm`` -> ``card_services › loss_confirm``."""
    return (name or "").replace(":", " › ")


def filters() -> dict[str, Callable[..., str]]:
    return {"stamp": stamp, "duration": duration, "mask_card": mask_card, "node": _node}
