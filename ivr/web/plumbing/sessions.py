"""Session cookies and the middleware that reads them.

The cookie holds a random token and its HMAC (key: ``web-secret.key``), ``HttpOnly`` and
``SameSite=Strict`` (``Secure`` when served over TLS). The session itself is a row keyed by the
token's SHA-256: unlike a self-contained signed cookie it can be ended (log-out, or by deleting
rows), and ``hotline up`` and ``hotline web`` share it through the database. The signature lets a
forged or mangled cookie be refused without a database read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta

from aiohttp import web

from ivr.store.types import utcnow
from ivr.web.plumbing.routing import Handler
from ivr.web.state import SESSION, console

__all__ = [
    "LOGIN_COOKIE",
    "SESSION_COOKIE",
    "SESSION_LIFETIME",
    "clear_cookie",
    "new_token",
    "session_id",
    "session_middleware",
    "set_cookie",
    "sign",
    "unsign",
]

SESSION_COOKIE = "hotline_session"
LOGIN_COOKIE = "hotline_login"  # carries the log-in form's CSRF token before there is a session
SESSION_LIFETIME = timedelta(hours=8)  # one shift; then log in again


def new_token() -> str:
    return secrets.token_urlsafe(32)


def session_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _mac(key: bytes, token: str) -> str:
    digest = hmac.new(key, token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(key: bytes, token: str) -> str:
    return f"{token}.{_mac(key, token)}"


def unsign(key: bytes, value: str) -> str | None:
    token, _, mac = value.rpartition(".")
    if not token or not hmac.compare_digest(mac, _mac(key, token)):
        return None
    return token


def set_cookie(
    response: web.StreamResponse,
    request: web.Request,
    name: str,
    value: str,
    max_age: timedelta,
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=int(max_age.total_seconds()),
        path="/",
        httponly=True,
        samesite="Strict",
        secure=request.secure,
    )


def clear_cookie(response: web.StreamResponse, name: str) -> None:
    response.del_cookie(name, path="/")


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Put the request's session (or nothing) under ``SESSION``; the routes' guards decide."""
    raw = request.cookies.get(SESSION_COOKIE)
    if raw and not request.path.startswith("/static/"):
        state = console(request)
        token = unsign(state.cookie_key, raw)
        if token is not None:
            found = await state.accounts.find_session(session_id(token), now=utcnow())
            if found is not None:
                request[SESSION] = found
    return await handler(request)
