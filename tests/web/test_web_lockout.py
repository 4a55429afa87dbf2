"""The console's log-in lock-out under attack, on SQLite and PostgreSQL: parallel attempts check
no more passwords than the limit, a locked name answers exactly as an unknown one, the lock-out
holds one name from one address (with back-off) so nobody can lock anyone else out, each lock is
audited, and a new password ends the account's sessions.

``verify_password_async`` is wrapped to see each argon2 check the log-in makes (and, in one test,
to hold the checks until the test lets them go).
"""

from __future__ import annotations

import argparse
import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import TCPConnector
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from ivr.cli.users_cmd import run_passwd
from ivr.store.models import AuditLogEntry, LoginThrottle, WebSession
from ivr.store.types import utcnow
from ivr.web import auth
from tests.spies import PasswordCheckSpy
from tests.web.support import PASSWORD, Client, Env, login

LIMIT = 5  # wrong passwords in a row from one address before a name is locked there
_ERROR = re.compile(r'<p class="error" role="alert">(.*?)</p>', re.S)
_HIDDEN = re.compile(r'name="csrf_token" value="([^"]*)"')


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> PasswordCheckSpy:
    checks = PasswordCheckSpy(auth.verify_password_async)
    monkeypatch.setattr(auth, "verify_password_async", checks)
    return checks


@pytest.fixture
async def other_address(client: Client) -> AsyncIterator[Client]:
    """A second browser on the same console, connecting from 127.0.0.2."""
    connector = TCPConnector(local_addr=("127.0.0.2", 0))
    async with TestClient(client.server, connector=connector) as second:
        yield second


async def form_token(client: Client) -> str:
    page = await client.get("/login")
    match = _HIDDEN.search(await page.text())
    assert match
    return match.group(1)


async def attempt(client: Client, token: str, username: str, password: str) -> tuple[int, str]:
    """One log-in POST: (status, the error shown, with the name typed taken out)."""
    response = await client.post(
        "/login",
        data={"csrf_token": token, "username": username, "password": password},
        allow_redirects=False,
    )
    match = _ERROR.search(await response.text())
    return response.status, (match.group(1).replace(username, "NAME") if match else "")


async def audited(env: Env, action: str) -> list[tuple[str, str, str]]:
    async with env.hotline.database.read() as session:
        rows = await session.execute(
            select(AuditLogEntry.actor, AuditLogEntry.detail, AuditLogEntry.remote)
            .where(AuditLogEntry.action == action)
            .order_by(AuditLogEntry.id)
        )
        return [(actor, detail, remote) for actor, detail, remote in rows]


async def test_a_hundred_parallel_wrong_passwords_check_only_five(
    client: Client, env: Env, spy: PasswordCheckSpy
) -> None:
    token = await form_token(client)
    results = await asyncio.gather(
        *(attempt(client, token, "clerk", f"wrong password {n}") for n in range(100))
    )
    statuses = sorted(status for status, _ in results)
    assert statuses == [401] * LIMIT + [429] * (100 - LIMIT)
    assert spy.checks == LIMIT
    failed = await audited(env, "login_failed")
    assert len(failed) == LIMIT
    assert len(await audited(env, "login_locked")) == 1


async def test_the_right_password_in_a_burst_of_wrong_ones_does_not_log_in(
    client: Client, env: Env, spy: PasswordCheckSpy
) -> None:
    token = await form_token(client)
    spy.hold()  # the checks under way stay under way while the right password comes in
    wrong = [
        asyncio.create_task(attempt(client, token, "clerk", f"wrong password {n}"))
        for n in range(39)
    ]
    await spy.until_started(LIMIT)
    right = asyncio.create_task(attempt(client, token, "clerk", PASSWORD))
    await asyncio.wait({right}, timeout=10)  # refused at once with the fix
    spy.gate.set()
    results = await asyncio.gather(*wrong, right)
    assert right.result()[0] == 429
    assert spy.checks == LIMIT
    assert sorted(status for status, _ in results) == [401] * LIMIT + [429] * (40 - LIMIT)
    async with env.hotline.database.read() as session:
        assert (await session.scalars(select(WebSession))).all() == []
    assert await audited(env, "login") == []


async def test_a_locked_name_answers_as_an_unknown_one(
    client: Client, other_address: Client, spy: PasswordCheckSpy
) -> None:
    """Same statuses, same messages and the same argon2 checks, attempt after attempt."""

    async def story(browser: Client, username: str) -> list[tuple[int, str, int]]:
        token = await form_token(browser)
        told = []
        for n in range(LIMIT + 3):
            before = spy.checks
            status, error = await attempt(browser, token, username, f"wrong password {n}")
            told.append((status, error, spy.checks - before))
        return told

    real = await story(client, "clerk")
    unknown = await story(other_address, "nobody")
    assert real == unknown
    assert [status for status, _, _ in real] == [401] * LIMIT + [429] * 3
    assert [checks for _, _, checks in real] == [1] * LIMIT + [0] * 3


async def test_a_lock_holds_one_name_from_one_address_only(
    client: Client, other_address: Client, env: Env
) -> None:
    token = await form_token(client)
    for n in range(LIMIT):
        assert (await attempt(client, token, "sup", f"wrong password {n}"))[0] == 401
    assert (await attempt(client, token, "sup", PASSWORD))[0] == 429
    # The account's owner, elsewhere, is not locked out by someone else's guesses.
    assert await login(other_address, "sup") == 303
    # Nor is another account from the attacker's address.
    assert await login(client, "clerk") == 303
    locks = await audited(env, "login_locked")
    assert [(actor, remote) for actor, _, remote in locks] == [("sup", "127.0.0.1")]


async def test_the_lock_backs_off_and_each_lock_is_audited(client: Client, env: Env) -> None:
    token = await form_token(client)
    for n in range(LIMIT):
        await attempt(client, token, "aud", f"wrong password {n}")
    first = await lock_left(env)
    assert timedelta(seconds=50) < first <= timedelta(minutes=1)
    await end_locks(env)
    # After a lock one more wrong password locks again, for twice as long.
    assert (await attempt(client, token, "aud", "wrong again"))[0] == 401
    assert (await attempt(client, token, "aud", PASSWORD))[0] == 429
    second = await lock_left(env)
    assert timedelta(minutes=1, seconds=50) < second <= timedelta(minutes=2)
    locks = await audited(env, "login_locked")
    assert [actor for actor, _, _ in locks] == ["aud", "aud"]
    assert "locked for 1 min" in locks[0][1] and "locked for 2 min" in locks[1][1]
    await end_locks(env)
    assert await login(client, "aud") == 303


async def lock_left(env: Env) -> timedelta:
    """How long the one lock in the database still runs."""
    async with env.hotline.database.read() as session:
        ends = (await session.scalars(select(LoginThrottle.locked_until))).all()
    assert len(ends) == 1 and ends[0] is not None
    return ends[0] - utcnow()


async def end_locks(env: Env) -> None:
    """Time passes: every lock runs out."""
    async with env.hotline.database.write() as session:
        await session.execute(update(LoginThrottle).values(locked_until=utcnow()))


async def test_a_new_password_ends_the_accounts_sessions(
    client: Client, other_address: Client, env: Env
) -> None:
    async with TestClient(client.server) as third:
        assert await login(client, "sup") == 303
        assert await login(other_address, "sup") == 303
        assert await login(third, "clerk") == 303
        assert (await client.get("/api/session")).status == 200
        # `hotline users passwd sup`, as an administrator runs it.
        command = argparse.Namespace(name="sup", password="a brand new password")
        assert await asyncio.to_thread(run_passwd, command, env.settings) == 0
        assert (await client.get("/api/session")).status == 401
        assert (await other_address.get("/api/session")).status == 401
        assert (await third.get("/api/session")).status == 200  # another account's session
        assert await login(client, "sup", "a brand new password") == 303
