"""What every template gets: the user, the CSRF token, the menu for the user's role, filters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from ivr.domain.cards import mask_card
from ivr.domain.clock import duration, stamp
from ivr.web.plumbing.csrf import CSRF_FIELD
from ivr.web.plumbing.menu import MENU
from ivr.web.state import session_of

__all__ = ["context_processor", "filters"]


async def context_processor(request: web.Request) -> dict[str, Any]:
    session = session_of(request)
    user = session.user if session else None
    return {
        "user": user,
        "csrf_field": CSRF_FIELD,
        "csrf_token": session.csrf_token if session else "",
        "menu": request.app[MENU].for_role(user.role) if user else [],
        "current_path": request.path,
    }


def _node(name: str | None) -> str:
    """``card_services:loss_confirm`` -> ``card_services › loss_confirm``."""
    return (name or "").replace(":", " › ")


def filters() -> dict[str, Callable[..., str]]:
    return {"stamp": stamp, "duration": duration, "mask_card": mask_card, "node": _node}
