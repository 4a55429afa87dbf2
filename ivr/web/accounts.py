"""Accounts in the browser, every change audited (passwords never: only that one was set).

- ``/accounts`` (supervisors): add staff, auditors or supervisors; reset a password (the
  account's sessions end and its log-in locks lift); disable an account (its sessions end) or
  enable it again; lift a log-in lock. A supervisor cannot disable their own account.
- ``/account/password`` (everyone): change one's own password, the current one typed first;
  every session of the account ends, so the person logs in again with the new one.
"""

from __future__ import annotations

import re
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from ivr.domain.account_password import (
    MIN_LENGTH,
    hash_password_async,
    password_problem,
    verify_password_async,
)
from ivr.store.errors import NotFound
from ivr.store.types import utcnow
from ivr.store.users import Role, UserExists
from ivr.web.audit import WORD_PATTERN
from ivr.web.plumbing.auditing import audit
from ivr.web.plumbing.errors import Refusal
from ivr.web.plumbing.i18n import Text, _l
from ivr.web.plumbing.roles import ALL_ROLES, SUPERVISORS
from ivr.web.plumbing.routing import Routes, see_other
from ivr.web.state import console, session_of

__all__ = ["routes"]

_NAME = re.compile(WORD_PATTERN)
DONE: dict[str, Text] = {
    "added": _l("Account %(name)s added."),
    "password": _l("New password set for %(name)s: their sessions ended."),
    "disable": _l("Account %(name)s disabled: its sessions ended."),
    "enable": _l("Account %(name)s enabled."),
    "unlock": _l("Log-in lock of %(name)s lifted."),
}
ACTIONS = ("password", "disable", "enable", "unlock")

routes = Routes()


def password_refusal(password: str, again: str) -> Text | None:
    """Why the new password cannot be taken, in the reader's language; None when it can."""
    if password_problem(password) is not None:
        if len(password) < MIN_LENGTH:
            return _l("A password needs at least %(num)s characters.", num=MIN_LENGTH)
        return _l("A password cannot start or end with spaces.")
    if password != again:
        return _l("The two passwords differ.")
    return None


async def _page(
    request: web.Request, *, error: Text | None = None, done: Text | None = None, status: int = 200
) -> web.Response:
    accounts = console(request).accounts
    context: dict[str, Any] = {
        "users": await accounts.list_users(),
        "locked": await accounts.locked_logins(utcnow()),
        "roles": list(Role),
        "min_length": MIN_LENGTH,
        "error": error,
        "done": done,
    }
    return aiohttp_jinja2.render_template("accounts.html", request, context, status=status)


@routes.get("/accounts", roles=SUPERVISORS, menu=_l("Accounts"))
async def accounts_page(request: web.Request) -> web.StreamResponse:
    what, name = request.query.get("done", ""), request.query.get("name", "")
    done = None
    if what in DONE and _NAME.fullmatch(name):
        done = _l(DONE[what].msgid, name=name)
    return await _page(request, done=done)


@routes.post("/accounts", roles=SUPERVISORS)
async def add_account(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    name = str(form.get("username", "")).strip()
    password, again = str(form.get("password", "")), str(form.get("again", ""))
    try:
        role = Role(str(form.get("role", "")))
    except ValueError:
        return await _page(request, error=_l("Choose a role."), status=400)
    if not _NAME.fullmatch(name):
        why: Text | None = _l("A user name is 1 to 64 letters, digits or _.@:-")
    else:
        why = password_refusal(password, again)
    if why is None:
        try:
            await console(request).accounts.add_user(
                name, role, await hash_password_async(password), now=utcnow()
            )
        except UserExists:
            why = _l("There is already an account %(name)s.", name=name)
    if why is not None:
        await audit(request, "account_add", target=f"user:{name[:64]}", detail=f"refused: {why}")
        return await _page(request, error=why, status=400)
    await audit(request, "account_add", target=f"user:{name}", detail=f"role {role.value}")
    return see_other(f"/accounts?done=added&name={name}")


@routes.post(r"/accounts/{name:[A-Za-z0-9_.@:-]{1,64}}/{action}", roles=SUPERVISORS)
async def account_action(request: web.Request) -> web.StreamResponse:
    name, action = request.match_info["name"], request.match_info["action"]
    if action not in ACTIONS:
        raise Refusal(404, _l("There is no account action %(action)s.", action=repr(action)))
    me = session_of(request)
    assert me is not None  # the route's roles
    accounts, target = console(request).accounts, f"user:{name}"
    form = await request.post()
    try:
        match action:
            case "password":
                why = password_refusal(str(form.get("password", "")), str(form.get("again", "")))
                if why is not None:
                    return await _page(request, error=why, status=400)
                new_hash = await hash_password_async(str(form.get("password", "")))
                ended = await accounts.set_password(name, new_hash)
                detail = f"password reset, {ended} session(s) ended"
            case "disable":
                if name == me.user.username:
                    return await _page(
                        request, error=_l("You cannot disable your own account."), status=409
                    )
                ended = await accounts.set_disabled(name, disabled_at=utcnow())
                detail = f"{ended} session(s) ended"
            case "enable":
                await accounts.set_disabled(name, disabled_at=None)
                detail = ""
            case _:
                detail = f"{await accounts.unlock_login(name)} lock(s) lifted"
    except NotFound:
        raise Refusal(404, _l("There is no account %(name)s.", name=name)) from None
    await audit(request, f"account_{action}", target=target, detail=detail)
    return see_other(f"/accounts?done={action}&name={name}")


# -- one's own password -----------------------------------------------------------------------


def _own_page(request: web.Request, error: Text | None = None, status: int = 200) -> web.Response:
    context = {"error": error, "min_length": MIN_LENGTH}
    return aiohttp_jinja2.render_template("password.html", request, context, status=status)


@routes.get("/account/password", roles=ALL_ROLES)
async def own_password_page(request: web.Request) -> web.StreamResponse:
    return _own_page(request)


@routes.post("/account/password", roles=ALL_ROLES)
async def change_own_password(request: web.Request) -> web.StreamResponse:
    session = session_of(request)
    assert session is not None  # the route's roles
    form = await request.post()
    current, password = str(form.get("current", "")), str(form.get("password", ""))
    accounts = console(request).accounts
    user = await accounts.find_user(session.user.username)
    if user is None or not await verify_password_async(user.password_hash, current):
        await audit(request, "password_change", detail="refused: wrong current password")
        return _own_page(request, _l("The current password is wrong."), 403)
    why = password_refusal(password, str(form.get("again", "")))
    if why is not None:
        return _own_page(request, why, 400)
    ended = await accounts.set_password(user.username, await hash_password_async(password))
    await audit(
        request,
        "password_change",
        target=f"user:{user.username}",
        detail=f"{ended} session(s) ended",
    )
    return see_other("/login")
