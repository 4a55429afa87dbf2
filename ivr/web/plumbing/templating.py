"""What every template gets: the user, the CSRF token, the menu for the user's role, the language
(``lang``) with gettext for Jinja2's i18n extension, and filters that format in that language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import jinja2
from aiohttp import web
from jinja2 import pass_context
from jinja2.runtime import Context

from ivr.domain.cards import mask_card
from ivr.web.plumbing.csrf import CSRF_FIELD, expected_token
from ivr.web.plumbing.i18n import LOCALES, Language, Text, language
from ivr.web.plumbing.labels import label
from ivr.web.plumbing.menu import MENU
from ivr.web.state import console, session_of

__all__ = ["context_processor", "filters", "install_gettext"]


async def context_processor(request: web.Request) -> dict[str, Any]:
    session = session_of(request)
    user = session.user if session else None
    lang = language(request)
    return {
        "user": user,
        "csrf_field": CSRF_FIELD,
        "csrf_token": session.csrf_token if session else "",
        # the language switch posts with the log-in form's token before log-in
        "switch_token": expected_token(request) or "",
        "menu": request.app[MENU].for_role(user.role) if user else [],
        "current_path": request.path_qs,
        "lang": lang,
        "languages": [console(request).languages.get(code) for code in LOCALES],
    }


def _lang(context: Context) -> Language:
    found: Language = context["lang"]
    return found


@pass_context
def _gettext(context: Context, message: str) -> str:
    return _lang(context).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, count: int) -> str:
    return _lang(context).ngettext(singular, plural, count)


def install_gettext(env: jinja2.Environment) -> None:
    """``_``, ``gettext``, ``ngettext`` and ``{% trans %}`` in the page's language."""
    env.add_extension("jinja2.ext.i18n")
    env.policies["ext.i18n.trimmed"] = True  # a {% trans %} block's line breaks are not in its id
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]


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


@pass_context
def _datetime(context: Context, moment: datetime | None, width: str = "medium") -> str:
    return _lang(context).datetime(moment, width)


@pass_context
def _date(context: Context, day: date | datetime | None, width: str = "medium") -> str:
    return _lang(context).date(day, width)


@pass_context
def _weekday_date(context: Context, day: date | None) -> str:
    return _lang(context).weekday_date(day)


@pass_context
def _time(context: Context, moment: datetime | None) -> str:
    return _lang(context).time(moment)


@pass_context
def _number(context: Context, value: float | Decimal | None) -> str:
    return _lang(context).number(value)


@pass_context
def _percent(context: Context, share: float | None) -> str:
    return _lang(context).percent(share)


@pass_context
def _money(context: Context, yuan: Decimal) -> str:
    return _lang(context).money(yuan)


@pass_context
def _text(context: Context, text: Text | str) -> str:
    return _lang(context).text(text)


@pass_context
def _label(context: Context, code: object, kind: str) -> str:
    """A stored code (an outcome, a status, a role...) as the page's language names it:
    ``call.outcome | label("outcome")``."""
    return _lang(context).text(label(kind, code))


def filters() -> dict[str, Callable[..., str]]:
    return {
        "duration": _duration,
        "mask_card": mask_card,
        "node": _node,
        "datetime": _datetime,
        "date": _date,
        "weekday_date": _weekday_date,
        "time": _time,
        "number": _number,
        "percent": _percent,
        "money": _money,
        "t": _text,
        "label": _label,
    }
