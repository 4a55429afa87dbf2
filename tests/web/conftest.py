"""Console test fixtures: a seeded hotline with calls, accounts of each role, a test client; for
the browser tests, the console served on a real port and Debian's Chromium."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from playwright.async_api import Browser

from ivr.domain.cards import CardStatus
from ivr.speech.catalog import Catalog
from ivr.web import WebServer, create_app, start_web
from tests.browser import chromium
from tests.web.support import Client, Env, keyed, open_env, simulate


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog.load()


@pytest.fixture
async def env(database_url: str, tmp_path: Path, catalog: Catalog) -> AsyncIterator[Env]:
    """Seeded citizens (seed 7: #2 provisional, #3 formal, #4 ready) and five real calls."""
    env = await open_env(database_url, tmp_path, catalog)
    try:
        first = env.citizen(0)
        await simulate(env, "12333", ["1", keyed(first), first.initial_password + "#", "1"])
        normal = [c for c in env.citizens[1:] if c.card_status is CardStatus.NORMAL]
        reporter, unverified = normal[0], normal[1]
        await simulate(
            env,
            "96102",
            ["1", keyed(reporter), reporter.initial_password + "#", "1", "1", "3", "-"],
        )
        await simulate(env, "96102", ["1", keyed(unverified), "*", "4", "-"])
        await simulate(env, "12333", ["0"], caller="02088886666")
        await simulate(env, "12333", ["-"])  # hangs up at the main menu
        yield env
    finally:
        await env.close()


@pytest.fixture
async def served(
    sqlite_url: str, tmp_path: Path, catalog: Catalog
) -> AsyncIterator[tuple[Env, WebServer]]:
    env = await open_env(sqlite_url, tmp_path, catalog)
    reporter = next(c for c in env.citizens[1:] if c.card_status is CardStatus.NORMAL)
    await simulate(
        env, "96102", ["1", keyed(reporter), reporter.initial_password + "#", "1", "1", "4"]
    )
    await simulate(env, "12333", ["0"])
    await simulate(env, "12333", ["-"])  # hangs up at the main menu
    await simulate(env, "96102", ["1"])  # hangs up when asked for the ID number
    core = env.hotline
    server = await start_web(
        env.settings, core.database, core.board, core.calendar, host="127.0.0.1", port=0
    )
    try:
        yield env, server
    finally:
        await server.close()
        await env.close()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


@pytest.fixture
async def client(env: Env) -> AsyncIterator[Client]:
    app = create_app(
        env.settings, env.hotline.database, live=env.hotline.board, calendar=env.hotline.calendar
    )
    async with TestClient(TestServer(app)) as test_client:
        yield test_client
