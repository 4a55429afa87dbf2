"""A dead or failing database: the caller hears what happens next and goes to an agent."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from contextlib import AsyncExitStack
from pathlib import Path

from sqlalchemy import text

from ivr.config import Settings
from ivr.live.board import Stage
from ivr.stack import start_node
from tests.agipeer import run_call
from tests.calls.conftest import RunningHotline
from tests.calls.test_full_calls import keyed_id, last_call, password


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens there once the socket closes


async def test_database_down_at_the_start_of_a_call(tmp_path: Path) -> None:
    url = f"postgresql://hotline:x@127.0.0.1:{closed_port()}/hotline"
    settings = Settings.load(env={"HOTLINE_ID_HASH_KEY": "k"}, data_dir=tmp_path, db_url=url)
    settings = dataclasses.replace(settings, agi_port=0)
    async with AsyncExitStack() as stack:  # connecting is lazy: the first call finds it down
        node = await start_node(settings, stack, ami=False)
        result = await run_call("127.0.0.1", node.agi.port, "12333", ["1"])
    assert result.heard == ["hotline/technical_problem"]
    assert result.variables["HOTLINE_NEXT"] == "agent"
    assert result.variables["HOTLINE_OUTCOME"] == "error"


async def test_database_failing_mid_call(hotline: RunningHotline) -> None:
    async with hotline.app.database.write() as session:
        await session.execute(text("DROP TABLE pension_accounts"))
    citizen = hotline.citizens[0]
    result = await run_call(
        "127.0.0.1", hotline.port, "12333", ["-", "1", keyed_id(citizen), password(citizen), "1"]
    )
    heard = [sound.removeprefix("hotline/") for sound in result.heard]
    assert heard[-1] == "technical_problem" and "pension_balance_is" not in heard
    assert result.variables["HOTLINE_NEXT"] == "agent"
    row = await last_call(hotline)
    assert row.outcome == "error" and row.next_action == "agent"
    assert row.last_node == "12333:pension"  # where it failed, for the supervisor


async def test_server_stopped_mid_call_closes_the_record_as_interrupted(
    hotline: RunningHotline,
) -> None:
    citizen = hotline.citizens[0]
    board = hotline.app.board
    with board.subscribe() as changes:
        call = asyncio.create_task(
            run_call(
                "127.0.0.1",
                hotline.port,
                "96102",
                ["-", "1", keyed_id(citizen), password(citizen)],
                audio_seconds=0.2,
            )
        )
        async with asyncio.timeout(30):
            while not any("identity" in (c.node or "") for c in board.current().calls):
                await changes.wait()
                changes.drain()
        (live,) = board.current().calls
        assert live.stage is Stage.MENUS and live.hotline == "96102"
        await hotline.server.stop(grace=0.1)
    result = await call
    assert not result.hung_up_by_peer  # the server went, not the caller
    row = await last_call(hotline)
    assert row.outcome == "interrupted" and row.ended_at is not None
    assert row.next_action is None  # the dialplan's fallback takes the caller on
    assert row.last_node is not None and row.last_node.startswith("identity_loss:")
    assert board.current().calls == ()  # an interrupted call is not left on the live board
