"""Log-in and log-out: argon2 password check, lock-out after repeated failures, sessions;
``/api/session`` tells an API client who it is logged in as and its CSRF token.

The lock-out (``CONSOLE_LOCKOUT``) holds a name typed from one source address, with back-off, so
guesses from one place never lock the owner out elsewhere, and a lock ends by itself. A password
is checked only after a claim in the database (``ivr.domain.lockout``): parallel attempts check
no more passwords than the limit allows; a refused attempt is not checked at all. Known and
unknown names take the same steps (an unknown name is checked against a dummy argon2 hash and
counts toward its own lock-out), so neither the answer nor its timing tells which names exist.
Every attempt is audited, and each lock.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import aiohttp_jinja2
from aiohttp import web

from ivr.domain.account_password import (
    CONSOLE_LOCKOUT,
    hash_password_async,
    needs_rehash,
    verify_password_async,
)
from ivr.domain.clock import stamp
from ivr.domain.lockout import Refused
from ivr.store.types import utcnow
from ivr.store.users import Role
from ivr.web.plumbing.auditing import audit
from ivr.web.plumbing.i18n import Text, _l, _nl
from ivr.web.plumbing.menu import MENU
from ivr.web.plumbing.redirects import safe_next
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

__all__ = ["routes"]

_LOGIN_FORM_LIFETIME = timedelta(hours=1)

routes = Routes()


def _minutes(span: timedelta) -> int:
    """A lock's length in whole minutes, rounded up."""
    return max(1, math.ceil(span.total_seconds() / 60))


def _lockout_hint() -> Text:
    return _nl(
        "%(failures)s wrong passwords in a row lock log-ins from one place for %(num)s minute; "
        "each further one for twice as long.",
        "%(failures)s wrong passwords in a row lock log-ins from one place for %(num)s minutes; "
        "each further one for twice as long.",
        _minutes(CONSOLE_LOCKOUT.lock_for),
        failures=CONSOLE_LOCKOUT.max_failures,
    )


def _home(request: web.Request, role: Role) -> str:
    return request.app[MENU].home(role)


def _login_page(
    request: web.Request,
    *,
    error: Text | None = None,
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
            "switch_token": token,
            "next": next_path or request.query.get("next", ""),
            "lockout_hint": _lockout_hint(),
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
    remote = request.remote or ""
    actor = username or "-"
    now = utcnow()
    refusal = await state.accounts.claim_login(username, remote, policy=CONSOLE_LOCKOUT, now=now)
    if refusal is not None:
        return await _refused(request, refusal, username, next_path, now)
    try:
        user = await state.accounts.find_user(username) if username else None
        ok = await verify_password_async(user.password_hash if user else state.dummy_hash, password)
    except BaseException:  # the check did not finish: it counts neither way
        await state.accounts.release_login(username, remote)
        raise
    settled_at = utcnow()
    settled = await state.accounts.settle_login(
        username, remote, right=ok and user is not None, policy=CONSOLE_LOCKOUT, now=settled_at
    )
    if user is None or not ok:
        what = "unknown user" if user is None else "wrong password"
        detail = f"{what} {settled.failures}/{CONSOLE_LOCKOUT.max_failures}"
        await audit(request, "login_failed", actor=actor, detail=detail)
        if settled.newly_locked and settled.locked_until is not None:
            lock = settled.locked_until - settled_at
            await audit(
                request,
                "login_locked",
                actor=actor,
                detail=f"{settled.failures} wrong passwords in a row from {remote or '-'}: "
                f"locked for {_minutes(lock)} min, until {stamp(settled.locked_until)}",
            )
        return _login_page(
            request,
            error=_l("Wrong name or password."),
            username=username,
            next_path=next_path,
            status=401,
        )
    if user.disabled_at is not None:  # told only to whoever knows the password
        await audit(request, "login_refused", actor=user.username, detail="account disabled")
        return _login_page(
            request,
            error=_l("This account is disabled: ask a supervisor."),
            username=username,
            next_path=next_path,
            status=403,
        )
    await state.accounts.record_login(user.id, now=now)
    if needs_rehash(user.password_hash):
        new_hash = await hash_password_async(password)
        await state.accounts.rehash(user.id, user.password_hash, new_hash)
    previous = session_of(request)
    if previous is not None:  # logging in again (maybe as someone else) ends the old session
        await _end_session(request)
    token, csrf = new_token(), new_token()
    await state.accounts.create_session(
        session_id(token), user.id, csrf, now=now, expires=now + SESSION_LIFETIME
    )
    await audit(request, "login", actor=user.username, role=user.role.value)
    target = safe_next(request.query.get("next") or next_path, _home(request, user.role))
    response = see_other(target)
    set_cookie(response, request, SESSION_COOKIE, sign(state.cookie_key, token), SESSION_LIFETIME)
    clear_cookie(response, LOGIN_COOKIE)
    return response


async def _refused(
    request: web.Request, refusal: Refused, username: str, next_path: str, now: datetime
) -> web.Response:
    """429 without a password check: the same for every name, whether an account has it or not."""
    if refusal.locked_until is not None:
        wait = refusal.locked_until - now
        error = _nl(
            "Too many failed log-ins: try again in %(num)s minute.",
            "Too many failed log-ins: try again in %(num)s minutes.",
            _minutes(wait),
        )
        detail = f"refused: locked until {stamp(refusal.locked_until)}"
    else:
        wait = timedelta(seconds=1)
        error = _l("Too many log-in attempts at once: try again in a moment.")
        detail = "refused: too many checks under way"
    await audit(request, "login_refused", actor=username or "-", detail=detail)
    response = _login_page(request, error=error, username=username, next_path=next_path, status=429)
    response.headers["Retry-After"] = str(math.ceil(wait.total_seconds()))
    return response


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
