"""``/healthz`` answers while the process runs; ``/readyz`` says whether the node can take calls
(database, AMI link, prompts), turns 503 when one goes and 200 when it is back; the console's
``/readyz`` follows the same rule."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from aiohttp import ClientSession
from sqlalchemy import make_url

from ivr.live.board import LiveBoard
from ivr.ops.readiness import Readiness
from ivr.stack import start_console
from tests.ami.fakeami import FakeAMI
from tests.ops.conftest import (
    RunningNode,
    StartNode,
    build_placeholder_prompts,
    node_settings,
    until,
    value,
)
from tests.ops.tcpproxy import TcpRelay


async def ready(node: RunningNode, expected: int) -> bool:
    status, _ = await node.ops.probe("/readyz")
    return status == expected


async def test_prompts_not_built_keep_the_node_unready_until_they_are(node: RunningNode) -> None:
    status, body = await node.ops.probe("/readyz")
    assert status == 503
    assert body["prompts"] == "down" and body["prompts_missing"] > 0
    assert body["database"] == "up" and body["telephony"] == "unknown"  # no AMI bridge
    assert await node.ops.probe("/healthz") == (200, {"status": "ok"})
    await asyncio.to_thread(build_placeholder_prompts, node.settings)
    assert await node.ops.probe("/readyz") == (
        200,
        {"ready": True, "database": "up", "telephony": "unknown", "prompts": "up"},
    )


async def test_ami_down_makes_node_and_console_unready_and_back(
    sqlite_url: str, tmp_path: Path, start: StartNode
) -> None:
    asterisk = FakeAMI()
    await asterisk.start()
    try:
        settings = node_settings(
            tmp_path,
            sqlite_url,
            ami_port=asterisk.port,
            ami_user=asterisk.username,
            ami_secret=asterisk.secret,
            web_port=0,
        )
        build_placeholder_prompts(settings)
        node = await start(settings, ami=True)
        async with AsyncExitStack() as stack:
            console = await start_console(
                settings,
                stack,
                database=node.node.core.database,
                live=node.node.core.board,
                calendar=node.node.core.calendar,
            )
            await until(lambda: ready(node, 200))
            assert value(await node.ops.scrape(), "hotline_ami_connected") == 1
            assert await _console_ready(console.url) == (200, "up")

            await asterisk.stop()  # Asterisk goes away
            await until(lambda: ready(node, 503))
            _, body = await node.ops.probe("/readyz")
            assert body["telephony"] == "down" and "lost" in body["telephony_reason"]
            assert body["database"] == "up" and body["prompts"] == "up"
            assert value(await node.ops.scrape(), "hotline_ami_connected") == 0
            assert await _console_ready(console.url) == (503, "down")
            assert (await node.ops.probe("/healthz"))[0] == 200

            await asterisk.start()  # and comes back on the same port: the bridge reconnects
            await until(lambda: ready(node, 200), within=15)
            assert value(await node.ops.scrape(), "hotline_ami_connected") == 1
            assert await _console_ready(console.url) == (200, "up")
    finally:
        await asterisk.stop()


async def _console_ready(url: str) -> tuple[int, Any]:
    async with ClientSession() as client, client.get(url + "/readyz") as response:
        return response.status, (await response.json())["telephony"]


async def test_database_down_makes_the_node_unready_and_back(
    postgresql_url: str, tmp_path: Path, start: StartNode
) -> None:
    real = make_url(postgresql_url)
    relay = TcpRelay(real.host or "127.0.0.1", real.port or 5432)
    await relay.start()
    try:
        through_relay = real.set(host="127.0.0.1", port=relay.port)
        settings = node_settings(tmp_path, through_relay.render_as_string(hide_password=False))
        build_placeholder_prompts(settings)
        node = await start(settings)
        assert await ready(node, 200)

        await relay.cut()  # PostgreSQL goes away: connections dropped, new ones refused
        await until(lambda: ready(node, 503))
        _, body = await node.ops.probe("/readyz")
        assert body["database"] == "down" and body["prompts"] == "up"
        assert await node.ops.probe("/healthz") == (200, {"status": "ok"})
        assert value(await node.ops.scrape(), "hotline_db_errors_total", operation="connect") > 0

        await relay.start()  # back on the same address: the pool reconnects on its own
        await until(lambda: ready(node, 200))
    finally:
        await relay.cut()


async def test_a_node_that_follows_asterisk_is_unready_before_its_first_login() -> None:
    async def database_up() -> bool:
        return True

    board = LiveBoard()  # no AMI bridge has told it anything yet
    following = await Readiness(database=database_up, live=board, ami=True).check()
    assert (following.ready, following.parts["telephony"]) == (False, "down")
    assert following.body()["telephony_reason"] == "AMI not connected yet"
    console = await Readiness(database=database_up, live=board).check()
    assert (console.ready, console.parts["telephony"]) == (True, "unknown")


async def test_an_empty_ops_host_starts_no_ops_server(
    sqlite_url: str, tmp_path: Path, start: StartNode
) -> None:
    node = await start(node_settings(tmp_path, sqlite_url, ops_host=""))
    assert node.node.ops is None
    assert node.node.agi.port > 0  # the node itself takes calls as before
