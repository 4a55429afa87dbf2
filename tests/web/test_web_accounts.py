"""Accounts in the browser (supervisors), one's own password, and a citizen's phone queries
unlocked at the counter: each change audited, no password or whole ID number kept."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from ivr.domain.account_password import CONSOLE_LOCKOUT
from ivr.domain.idnumber import id_hash
from ivr.store.models import AuditLogEntry, Citizen, SecurityEvent
from ivr.store.types import utcnow
from tests.web.support import PASSWORD, Client, Env, all_stored_text, csrf_token, login

NEW = "a much better passphrase"


async def audited(env: Env, prefix: str) -> list[tuple[str, str, str, str]]:
    async with env.hotline.database.read() as session:
        rows = await session.scalars(
            select(AuditLogEntry)
            .where(AuditLogEntry.action.startswith(prefix))
            .order_by(AuditLogEntry.id)
        )
        return [(r.action, r.actor, r.target, r.detail) for r in rows]


async def post(client: Client, path: str, **form: str) -> int:
    data = {"csrf_token": await csrf_token(client), **form}
    return (await client.post(path, data=data, allow_redirects=False)).status


async def test_a_supervisor_adds_a_colleague_who_then_logs_in(env: Env, client: Client) -> None:
    await login(client, "sup")
    add = {"username": "xiaochen", "role": "staff", "password": NEW}
    assert await post(client, "/accounts", **add, again="a different one!!") == 400
    assert await post(client, "/accounts", **add, again=NEW) == 303
    assert await post(client, "/accounts", **add, again=NEW) == 400  # the name is taken
    page = await (await client.get("/accounts?done=added&name=xiaochen")).text()
    assert "Account xiaochen added." in page and 'id="user-xiaochen"' in page
    colleague = await env.client()
    try:
        assert await login(colleague, "xiaochen", NEW) == 303
        assert (await colleague.get("/cases")).status == 200
        assert (await colleague.get("/accounts")).status == 403  # staff do not manage accounts
    finally:
        await colleague.close()
    adds = await audited(env, "account_")
    assert [(a, who, t) for a, who, t, _ in adds] == [("account_add", "sup", "user:xiaochen")] * 3
    assert [d.split(":")[0] for *_, d in adds] == ["refused", "role staff", "refused"]
    assert NEW not in await all_stored_text(env)


async def test_reset_disable_enable_and_unlock_end_the_right_sessions(
    env: Env, client: Client
) -> None:
    clerk = await env.client()
    try:
        await login(clerk, "clerk")
        await login(client, "sup")
        assert await post(client, "/accounts/clerk/disable") == 303
        assert (await clerk.get("/api/session")).status == 401  # the session ended
        assert await login(clerk, "clerk") == 403  # the right password, a disabled account
        assert await post(client, "/accounts/sup/disable") == 409  # not oneself
        assert await post(client, "/accounts/clerk/enable") == 303
        assert await login(clerk, "clerk") == 303
        assert await post(client, "/accounts/clerk/password", password=NEW, again=NEW) == 303
        assert (await clerk.get("/api/session")).status == 401
        assert await login(clerk, "clerk") == 401  # the old password no longer works
        for _ in range(CONSOLE_LOCKOUT.max_failures):
            await login(clerk, "clerk", "wrong password!")
        assert await login(clerk, "clerk", NEW) == 429  # locked now
        page = await (await client.get("/accounts")).text()
        assert "log-in locked until" in page.split('id="user-clerk"')[1].split("</tr>")[0]
        assert await post(client, "/accounts/clerk/unlock") == 303
        assert await login(clerk, "clerk", NEW) == 303
        assert await post(client, "/accounts/nobody/disable") == 404
    finally:
        await clerk.close()
    actions = [(a, t) for a, _, t, _ in await audited(env, "account_")]
    assert actions == [
        ("account_disable", "user:clerk"),
        ("account_enable", "user:clerk"),
        ("account_password", "user:clerk"),
        ("account_unlock", "user:clerk"),
    ]
    refused = [d for a, _, _, d in await audited(env, "login_refused")]
    assert "account disabled" in refused
    assert NEW not in await all_stored_text(env)


async def test_a_user_changes_their_own_password(env: Env, client: Client) -> None:
    await login(client, "aud")
    form = {"password": NEW, "again": NEW}
    assert await post(client, "/account/password", current="not my password", **form) == 403
    assert (
        await post(client, "/account/password", current=PASSWORD, password="short", again="short")
        == 400
    )
    assert await post(client, "/account/password", current=PASSWORD, **form) == 303
    assert (await client.get("/api/session")).status == 401  # log in again
    assert await login(client, "aud", PASSWORD) == 401
    assert await login(client, "aud", NEW) == 303
    assert [(a, who) for a, who, _, _ in await audited(env, "password_change")] == [
        ("password_change", "aud"),
        ("password_change", "aud"),
    ]


async def test_staff_unlock_a_citizens_phone_queries_after_checking_the_id_card(
    env: Env, client: Client
) -> None:
    citizen = env.citizen(2)
    hashed = id_hash(env.settings.hash_key(), citizen.id_number)
    until = utcnow() + timedelta(hours=20)
    async with env.hotline.database.write() as session:
        await session.execute(
            update(Citizen)
            .where(Citizen.id_hash == hashed)
            .values(password_failures=3, locked_until=until)
        )
    await login(client, "clerk")
    form = {"id_number": citizen.id_number, "reason": "ID card checked at counter 3"}
    assert await post(client, "/citizens/unlock", **form) == 400  # the check not confirmed
    response = await client.post(
        "/citizens/unlock",
        data={"csrf_token": await csrf_token(client), "identity_checked": "yes", **form},
    )
    html = await response.text()
    assert response.status == 200 and f"Phone queries of {citizen.masked} unlocked" in html
    assert citizen.id_number not in html
    found = await env.hotline.records.find_citizen(hashed)
    assert found is not None and found.locked_until is None and found.password_failures == 0
    wrong = citizen.id_number[:-1] + ("1" if citizen.id_number[-1] != "1" else "2")
    assert (
        await post(client, "/citizens/unlock", identity_checked="yes", id_number=wrong, reason="x")
        == 400
    )

    ((action, actor, target, detail),) = await audited(env, "citizen_unlock")
    assert (action, actor, target) == ("citizen_unlock", "clerk", f"citizen:{citizen.masked}")
    assert detail.startswith("was locked until") and "ID card checked at counter 3" in detail
    async with env.hotline.database.read() as session:
        event = await session.scalar(select(SecurityEvent).where(SecurityEvent.kind == "unlocked"))
    assert event is not None and event.detail == "by staff:clerk: ID card checked at counter 3"
    stored = await all_stored_text(env)
    assert citizen.id_number not in stored and wrong not in stored
