"""Shared by the console tests: a seeded hotline with real call records, accounts, log-in."""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from ivr.ami.bridge import AMIBridge
from ivr.ami.client import AMIClient
from ivr.ami.hangups import HangupRecorder
from ivr.config import Settings
from ivr.domain.account_password import hash_password_async
from ivr.engine.context import CallContext
from ivr.sim.console import ConsolePort
from ivr.speech.catalog import Catalog
from ivr.stack import Core, open_core
from ivr.store.database import upgrade_database
from ivr.store.models import Base
from ivr.store.seed import DemoCitizen, seed_demo
from ivr.store.types import utcnow
from ivr.store.users import Accounts, Role
from ivr.web import create_app

Client = TestClient[web.Request, web.Application]
PASSWORD = "correct horse battery"
USERS = {"sup": Role.SUPERVISOR, "clerk": Role.STAFF, "aud": Role.AUDITOR}
# The accounts above read the console in English, so these tests' texts are the code's own; the
# Chinese default (a new account's) is tested in test_web_i18n.
ENGLISH = "en"


@dataclass
class Env:
    settings: Settings
    hotline: Core  # built by the composition root, as in `hotline up`
    citizens: list[DemoCitizen]
    catalog: Catalog
    stack: AsyncExitStack

    def citizen(self, index: int) -> DemoCitizen:
        return self.citizens[index]

    def accounts(self) -> Accounts:
        return Accounts(self.hotline.database)

    async def client(self) -> Client:
        """Another browser on the same console (a fresh cookie jar); close it when done."""
        app = create_app(
            self.settings,
            self.hotline.database,
            live=self.hotline.board,
            calendar=self.hotline.calendar,
        )
        fresh: Client = TestClient(TestServer(app))
        await fresh.start_server()
        return fresh

    async def close(self) -> None:
        await self.stack.aclose()


def ami_bridge(env: Env) -> AMIBridge:
    """An AMI bridge into the hotline's live board and records, as ``start_bridge`` builds one,
    whose client never connects: the test feeds it recorded events."""
    return AMIBridge(
        AMIClient("127.0.0.1", 1, "hotline", "x"),
        publish=env.hotline.publish,
        hangups=HangupRecorder(env.hotline.records),
    )


def keyed(citizen: DemoCitizen) -> str:
    return citizen.id_number.replace("X", "*") + "#"


async def open_env(database_url: str, tmp_path: Path, catalog: Catalog) -> Env:
    settings = Settings.load(
        env={"HOTLINE_ID_HASH_KEY": "test-key"}, data_dir=tmp_path / "var", db_url=database_url
    )
    await upgrade_database(database_url)
    stack = AsyncExitStack()
    hotline = await open_core(settings, stack)
    citizens = await seed_demo(
        hotline.database, citizens=6, seed=7, key=settings.hash_key(), today=date.today()
    )
    accounts = Accounts(hotline.database)
    for name, role in USERS.items():
        await accounts.add_user(
            name, role, await hash_password_async(PASSWORD), now=utcnow(), locale=ENGLISH
        )
    return Env(settings, hotline, citizens, catalog, stack)


async def simulate(
    env: Env, hotline: str, entries: Sequence[str], *, caller: str = "13800000000"
) -> CallContext:
    """One whole call on the console port (no Asterisk), recorded in the database."""
    port = ConsolePort(
        env.catalog, env.settings.recordings_dir, entries=list(entries), say=lambda _: None
    )
    runner = env.hotline.runner
    ctx = runner.context(
        hotline, caller_id=caller, channel="Console/test", uniqueid=f"t-{utcnow():%f}"
    )
    return await runner.run(port, ctx)


_HIDDEN = re.compile(r'name="csrf_token" value="([^"]*)"')


async def login(client: Client, username: str, password: str = PASSWORD) -> int:
    """Log in through the form; the status of the POST (303 on success)."""
    page = await client.get("/login")
    match = _HIDDEN.search(await page.text())
    assert match, "the log-in form has a CSRF token"
    response = await client.post(
        "/login",
        data={"csrf_token": match.group(1), "username": username, "password": password},
        allow_redirects=False,
    )
    return response.status


async def csrf_token(client: Client) -> str:
    response = await client.get("/api/session")
    assert response.status == 200
    token: str = (await response.json())["csrf_token"]
    return token


async def all_stored_text(env: Env) -> str:
    """Every value of every row of every table, as one text (to look for what must not be)."""
    parts: list[str] = []
    async with env.hotline.database.read() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                parts.extend(str(value) for value in row)
    return "\n".join(parts)
