"""The language switch every page offers (``POST /language``): Simplified Chinese or English.

Logged in, the choice is the account's (``users.locale``: it follows the person to any browser);
before log-in it is kept in a cookie (the log-in page in the language chosen). Either way the
person lands back on the page they switched on.
"""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from ivr.web.plumbing.i18n import LANG_COOKIE, LOCALES
from ivr.web.plumbing.redirects import safe_next
from ivr.web.plumbing.routing import Routes, see_other
from ivr.web.plumbing.sessions import set_cookie
from ivr.web.state import console, session_of

__all__ = ["routes"]

_COOKIE_LIFETIME = timedelta(days=365)

routes = Routes()


@routes.post("/language", public=True)
async def switch_language(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    code = str(form.get("lang", ""))
    target = safe_next(str(form.get("next", ""))[:500], "/")
    response = see_other(target)
    if code not in LOCALES:  # a forged form: nothing changes
        return response
    session = session_of(request)
    if session is not None:
        await console(request).accounts.set_locale(session.user.id, code)
    set_cookie(response, request, LANG_COOKIE, code, _COOKIE_LIFETIME)
    return response
