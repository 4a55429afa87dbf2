"""Log-in, lock-out, sessions, CSRF and who reaches what: each role only what it may."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from ivr.store.models import AuditLogEntry, LoginThrottle, WebSession
from ivr.store.types import utcnow
from tests.web.support import PASSWORD, Client, Env, csrf_token, login

PAGES = (
    "/live",
    "/calls",
    "/calls/1",
    "/calls.csv",
    "/cases",
    "/callbacks",
    "/citizens/unlock",
    "/stats",
    "/prompts",
    "/accounts",
    "/audit",
    "/account/password",
)
API = (
    "/api/calls",
    "/api/calls/1",
    "/api/cases",
    "/api/stats",
    "/api/live",
    "/api/audit",
    "/api/openapi.json",
    "/api/session",
)
SUPERVISOR_ONLY = {
    "/live",
    "/calls",
    "/calls/1",
    "/calls.csv",
    "/stats",
    "/prompts",
    "/accounts",
    "/api/calls",
    "/api/calls/1",
    "/api/stats",
    "/api/live",
}
CASEWORK = {"/cases", "/api/cases", "/callbacks", "/citizens/unlock"}
AUDITOR_ONLY = {"/audit", "/api/audit"}
EVERYONE = {"/api/openapi.json", "/api/session", "/account/password"}
ALLOWED = {
    "sup": SUPERVISOR_ONLY | CASEWORK | EVERYONE,
    "clerk": CASEWORK | EVERYONE,
    "aud": AUDITOR_ONLY | EVERYONE,
}


MENUS = {
    "sup": [
        "/live",
        "/calls",
        "/cases",
        "/callbacks",
        "/citizens/unlock",
        "/stats",
        "/prompts",
        "/accounts",
    ],
    "clerk": ["/cases", "/callbacks", "/citizens/unlock"],
    "aud": ["/audit"],
}
OWN_PASSWORD = "/account/password"  # everyone's, linked from their name in the header
_NAV = re.compile(r"<nav>(.*?)</nav>", re.S)
_LINK = re.compile(r'<a href="([^"]+)"')


async def audit_actions(env: Env) -> list[tuple[str, str, str]]:
    async with env.hotline.database.read() as session:
        rows = await session.execute(
            select(AuditLogEntry.actor, AuditLogEntry.action, AuditLogEntry.detail).order_by(
                AuditLogEntry.id
            )
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_every_page_needs_a_login(client: Client) -> None:
    for path in PAGES:
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303, path
        assert response.headers["Location"].startswith("/login?next=%2F"), path
    for path in API:
        response = await client.get(path, allow_redirects=False)
        assert response.status == 401, path
    login_page = await client.get("/login")
    assert login_page.status == 200 and 'name="password"' in await login_page.text()


@pytest.mark.parametrize("username", ["sup", "clerk", "aud"])
async def test_each_role_reaches_only_what_it_may(client: Client, username: str) -> None:
    assert await login(client, username) == 303
    for path in PAGES + API:
        response = await client.get(path, allow_redirects=False)
        expected = 200 if path in ALLOWED[username] else 403
        assert response.status == expected, (username, path, response.status)


def fixed_pages(client: Client) -> set[str]:
    """Every GET route of the app with a fixed path, but the API and the static files."""
    assert client.app is not None
    return {
        route.resource.canonical
        for route in client.app.router.routes()
        if route.method == "GET"
        and route.resource is not None
        and "{" not in route.resource.canonical
        and not route.resource.canonical.startswith(("/api/", "/static"))
    }


@pytest.mark.parametrize("username", ["sup", "clerk", "aud"])
async def test_the_menu_lists_exactly_the_pages_the_role_opens(
    client: Client, username: str
) -> None:
    assert await login(client, username) == 303
    home = await client.get("/")
    nav = _NAV.search(await home.text())
    assert nav is not None
    menu = _LINK.findall(nav.group(1))
    assert menu == MENUS[username] and home.url.path == menu[0]  # the role lands on its first
    for path in menu:
        assert (await client.get(path)).status == 200, path
    reachable = set()
    for path in fixed_pages(client):
        response = await client.get(path, allow_redirects=False)
        if response.status == 200 and response.content_type == "text/html":
            reachable.add(path)
    assert reachable == set(menu) | {OWN_PASSWORD}


async def test_login_lands_on_the_roles_home_and_sets_a_strict_cookie(client: Client) -> None:
    page = await client.get("/login")
    token = page.cookies["hotline_login"].value.split(".")[0]
    response = await client.post(
        "/login",
        data={"csrf_token": token, "username": "clerk", "password": PASSWORD},
        allow_redirects=False,
    )
    assert response.status == 303 and response.headers["Location"] == "/cases"
    cookie = response.cookies["hotline_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/"
    assert "Content-Security-Policy" in response.headers


async def test_next_after_login_stays_on_this_site(client: Client) -> None:
    for target, expected in (("/stats", "/stats"), ("//evil.example/x", "/live")):
        client.session.cookie_jar.clear_domain("127.0.0.1")
        page = await client.get("/login")
        token = page.cookies["hotline_login"].value.split(".")[0]
        response = await client.post(
            "/login",
            data={"csrf_token": token, "username": "sup", "password": PASSWORD, "next": target},
            allow_redirects=False,
        )
        assert response.headers["Location"] == expected


async def test_wrong_and_unknown_logins_fail_alike_and_are_audited(
    client: Client, env: Env
) -> None:
    assert await login(client, "sup", "wrong password!") == 401
    assert await login(client, "nobody", "wrong password!") == 401
    assert await login(client, "sup") == 303
    actions = await audit_actions(env)
    assert [a[:2] for a in actions] == [
        ("sup", "login_failed"),
        ("nobody", "login_failed"),
        ("sup", "login"),
    ]
    assert actions[0][2] == "wrong password 1/5"
    assert all("wrong password!" not in detail for _, _, detail in actions)


async def test_five_failures_lock_the_name_from_this_address_for_a_minute(
    client: Client, env: Env
) -> None:
    for _ in range(5):
        assert await login(client, "clerk", "not the password") == 401
    assert await login(client, "clerk") == 429  # the right password is not even checked now
    async with env.hotline.database.read() as session:
        lock = await session.scalar(select(LoginThrottle))
    assert lock is not None and lock.failures == 5 and lock.locked_until is not None
    assert lock.remote == "127.0.0.1"
    left = lock.locked_until - utcnow()
    assert timedelta(seconds=50) < left <= timedelta(minutes=1)
    actions = [a[1] for a in await audit_actions(env)]
    assert actions == ["login_failed"] * 5 + ["login_locked", "login_refused"]
    # A minute later (the lock moved into the past) the right password works again.
    async with env.hotline.database.write() as session:
        await session.execute(update(LoginThrottle).values(locked_until=utcnow()))
    assert await login(client, "clerk") == 303
    async with env.hotline.database.read() as session:
        lock = await session.scalar(select(LoginThrottle))
    assert lock is None or (lock.failures == 0 and lock.locked_until is None)


async def test_posts_without_the_right_csrf_token_are_refused(client: Client) -> None:
    # Log-in form: no token, or a token not matching the form's cookie.
    response = await client.post(
        "/login", data={"username": "sup", "password": PASSWORD}, allow_redirects=False
    )
    assert response.status == 403
    await client.get("/login")
    response = await client.post(
        "/login",
        data={"csrf_token": "forged", "username": "sup", "password": PASSWORD},
        allow_redirects=False,
    )
    assert response.status == 403
    assert await login(client, "sup") == 303
    token = await csrf_token(client)
    for data in ({}, {"csrf_token": "forged"}):
        response = await client.post("/logout", data=data, allow_redirects=False)
        assert response.status == 403
        response = await client.post("/cases/0/formal", data=data, allow_redirects=False)
        assert response.status == 403
    response = await client.post("/api/calls/search", json={"caller": "138"})
    assert response.status == 403
    response = await client.post(
        "/api/calls/search", json={"caller": "138"}, headers={"X-CSRF-Token": "forged"}
    )
    assert response.status == 403
    response = await client.post(
        "/api/calls/search", json={"caller": "138"}, headers={"X-CSRF-Token": token}
    )
    assert response.status == 200
    response = await client.post(
        "/calls",
        data={"csrf_token": token},
        headers={"Origin": "http://evil.example"},
        allow_redirects=False,
    )
    assert response.status == 403  # the right token from another site's page: refused too
    response = await client.post("/logout", data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 303


async def test_logout_ends_the_session_for_good(client: Client, env: Env) -> None:
    assert await login(client, "sup") == 303
    stolen = client.session.cookie_jar.filter_cookies(client.make_url("/"))["hotline_session"]
    token = await csrf_token(client)
    response = await client.post("/logout", data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 303
    async with env.hotline.database.read() as session:
        assert (await session.scalars(select(WebSession))).all() == []
    # The old cookie, replayed, is worth nothing: the session row is gone.
    response = await client.get(
        "/api/session", headers={"Cookie": f"hotline_session={stolen.value}"}
    )
    assert response.status == 401


async def test_a_forged_cookie_is_refused(client: Client) -> None:
    assert await login(client, "sup") == 303
    good = client.session.cookie_jar.filter_cookies(client.make_url("/"))["hotline_session"]
    token, _, signature = good.value.rpartition(".")
    client.session.cookie_jar.clear()
    other = "y" if token[0] == "x" else "x"  # a token changed by one character, old signature
    for value in (f"{token}.AAAA", f"{other}{token[1:]}.{signature}", token):
        response = await client.get("/api/session", headers={"Cookie": f"hotline_session={value}"})
        assert response.status == 401
