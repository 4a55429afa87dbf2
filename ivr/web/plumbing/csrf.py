"""CSRF protection: every POST carries the session's token (a form field or a header).

Before log-in the token is the one the log-in form was given, kept in a signed cookie (so a
forged log-in cannot happen either). A POST whose ``Origin`` names another site is refused too.
"""

from __future__ import annotations

import hmac

from aiohttp import web

from ivr.web.plumbing.errors import forbidden
from ivr.web.plumbing.i18n import _l
from ivr.web.plumbing.routing import Handler
from ivr.web.plumbing.sessions import LOGIN_COOKIE, unsign
from ivr.web.state import console, session_of

__all__ = ["CSRF_FIELD", "CSRF_HEADER", "csrf_middleware", "expected_token"]

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
_FORMS = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def expected_token(request: web.Request) -> str | None:
    session = session_of(request)
    if session is not None:
        return session.csrf_token
    raw = request.cookies.get(LOGIN_COOKIE)
    return unsign(console(request).cookie_key, raw) if raw else None


async def _given_token(request: web.Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.content_type in _FORMS:
        value = (await request.post()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def _foreign_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return bool(origin)
    return origin.split("://", 1)[-1] != request.host


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method not in _SAFE:
        expected = expected_token(request)
        given = await _given_token(request)
        if (
            _foreign_origin(request)
            or not expected
            or not given
            or not hmac.compare_digest(expected.encode(), given.encode())
        ):
            return await forbidden(
                request,
                _l("The form is out of date (CSRF token): reload the page and try again."),
            )
    return await handler(request)
