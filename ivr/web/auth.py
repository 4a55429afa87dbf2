"""Log-in and log-out: argon2 password check, lock-out after repeated failures, sessions;
``/api/session`` tells an API client who it is logged in as and its CSRF token.

Five wrong passwords in a row lock an account for 15 minutes; while locked the password is not
even checked. An unknown name costs the same argon2 check as a known one and gets the same
answer, so the form does not tell which names exist. Every attempt is audited.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web

from ivr.domain.account_password import hash_password_async, needs_rehash, verify_password_async
from ivr.domain.clock import stamp
from ivr.store.types import utcnow
from ivr.store.users import Role, UserView
from ivr.web.plumbing.auditing import audit
from ivr.web.plumbing.menu import MENU
from ivr.web.plumbing.roles import ALL_ROLES
from ivr.web.plumbing.routing import Routes, see_other
from ivr.web.plumbing.sessions import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    SESSION_LIFETIME,
    clear_cookie,
    new_token,
    session_id,
    set_cookie,
    sign,
    unsign,
)
from ivr.web.state import console, session_of

__all__ = ["LOCK_FOR", "MAX_FAILURES", "routes"]

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
_LOGIN_FORM_LIFETIME = timedelta(hours=1)

routes = Routes()


def _home(request: web.Request, role: Role) -> str:
    return request.app[MENU].home(role)


def _safe_next(target: str | None, fallback: str) -> str:
    """Only a path on this site (no ``//host`` or ``scheme:``) is followed after log-in, and only
    one that can be sent as a ``Location`` header: no control character (CR, LF, a vertical tab).
    Any other target falls back to the role's home, so the redirect that ends a log-in can always
    be sent (aiohttp refuses such a header, which failed the log-in after its session began)."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or not target.isprintable()
    ):
        return fallback
    parts = urlsplit(target)
    return fallback if parts.scheme or parts.netloc or "\\" in target else target


def _login_page(
    request: web.Request,
    *,
    error: str = "",
    username: str = "",
    next_path: str = "",
    status: int = 200,
) -> web.Response:
    state = console(request)
    raw = request.cookies.get(LOGIN_COOKIE)
    token = unsign(state.cookie_key, raw) if raw else None
    fresh = token is None
    token = token or new_token()
    response = aiohttp_jinja2.render_template(
        "login.html",
        request,
        {
            "error": error,
            "username": username,
            "login_token": token,
            "next": next_path or request.query.get("next", ""),
        },
        status=status,
    )
    if fresh:
        set_cookie(
            response, request, LOGIN_COOKIE, sign(state.cookie_key, token), _LOGIN_FORM_LIFETIME
        )
    return response


@routes.get("/login", public=True)
async def login_form(request: web.Request) -> web.StreamResponse:
    session = session_of(request)
    if session is not None:
        return see_other(_home(request, session.user.role))
    return _login_page(request)


@routes.post("/login", public=True)
async def login(request: web.Request) -> web.StreamResponse:
    state = console(request)
    form = await request.post()
    username = str(form.get("username", "")).strip()[:64]
    password = str(form.get("password", ""))
    next_path = str(form.get("next", ""))[:500]
    now = utcnow()
    user = await state.accounts.find_user(username) if username else None
    if user is not None and user.locked_at(now):
        await audit(
            request,
            "login_locked",
            actor=username,
            role=user.role.value,
            detail=f"refused: locked until {stamp(user.locked_until)}",
        )
        return _login_page(
            request,
            error=_locked_message(user),
            username=username,
            next_path=next_path,
            status=429,
        )
    ok = await verify_password_async(user.password_hash if user else state.dummy_hash, password)
    if user is None or not ok:
        detail = "unknown user"
        if user is not None:
            failures, locked_until = await state.accounts.record_login_failure(
                user.id, now=now, max_failures=MAX_FAILURES, lock_for=LOCK_FOR
            )
            detail = f"wrong password {failures}/{MAX_FAILURES}"
            if locked_until is not None:
                detail += f", locked until {stamp(locked_until)}"
        await audit(request, "login_failed", actor=username or "-", detail=detail)
        return _login_page(
            request,
            error="Wrong name or password.",
            username=username,
            next_path=next_path,
            status=401,
        )
    await state.accounts.record_login_success(user.id, now=now)
    if needs_rehash(user.password_hash):
        await state.accounts.set_password(user.username, await hash_password_async(password))
    previous = session_of(request)
    if previous is not None:  # logging in again (maybe as someone else) ends the old session
        await _end_session(request)
    token, csrf = new_token(), new_token()
    await state.accounts.create_session(
        session_id(token), user.id, csrf, now=now, expires=now + SESSION_LIFETIME
    )
    await audit(request, "login", actor=user.username, role=user.role.value)
    target = _safe_next(request.query.get("next") or next_path, _home(request, user.role))
    response = see_other(target)
    set_cookie(response, request, SESSION_COOKIE, sign(state.cookie_key, token), SESSION_LIFETIME)
    clear_cookie(response, LOGIN_COOKIE)
    return response


def _locked_message(user: UserView) -> str:
    return (
        f"Too many wrong passwords: this account is locked until {stamp(user.locked_until)} "
        "(China Standard Time)."
    )


@routes.post("/logout", roles=ALL_ROLES)
async def logout(request: web.Request) -> web.StreamResponse:
    await audit(request, "logout")
    await _end_session(request)
    response = see_other("/login")
    clear_cookie(response, SESSION_COOKIE)
    return response


async def _end_session(request: web.Request) -> None:
    token = unsign(console(request).cookie_key, request.cookies.get(SESSION_COOKIE, ""))
    if token is not None:
        await console(request).accounts.end_session(session_id(token))


@routes.get("/", roles=ALL_ROLES)
async def home(request: web.Request) -> web.StreamResponse:
    session = session_of(request)
    assert session is not None  # the guard let only logged-in users in
    return see_other(_home(request, session.user.role))


@routes.get("/api/session", roles=ALL_ROLES)
async def session_api(request: web.Request) -> web.StreamResponse:
    session = session_of(request)
    assert session is not None
    return web.json_response(
        {
            "username": session.user.username,
            "role": session.user.role.value,
            "csrf_token": session.csrf_token,
            "expires_at": session.expires_at.isoformat(),
        }
    )
