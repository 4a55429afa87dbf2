"""What every template gets: the user, the CSRF token, the menu for the user's role, filters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from ivr.domain.cards import mask_card
from ivr.domain.clock import stamp
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


def _duration(seconds: float | None) -> str:
    """``1:05`` or ``1:02:03``; empty for no value."""
    if seconds is None:
        return ""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def filters() -> dict[str, Callable[..., str]]:
    return {"stamp": stamp, "duration": _duration, "mask_card": mask_card, "node": _node}
