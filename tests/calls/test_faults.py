"""A dead or failing database: the caller hears what happens next and goes to an agent."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import socket
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from ivr.config import Settings
from ivr.domain.cards import CardStatus
from ivr.live.board import Stage
from ivr.stack import Node, start_node
from ivr.store import models
from ivr.store.database import upgrade_database
from tests.agipeer import header_block, run_call
from tests.calls.conftest import RunningHotline
from tests.calls.test_full_calls import keyed_id, last_call, password


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens there once the socket closes


async def test_database_down_at_the_start_of_a_call(tmp_path: Path) -> None:
    url = f"postgresql://hotline:x@127.0.0.1:{closed_port()}/hotline"
    settings = Settings.load(env={"HOTLINE_ID_HASH_KEY": "k"}, data_dir=tmp_path, db_url=url)
    settings = dataclasses.replace(settings, agi_port=0, ops_port=0)
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
        "127.0.0.1", hotline.port, "12333", ["1", keyed_id(citizen), password(citizen), "1"]
    )
    heard = [sound.removeprefix("hotline/") for sound in result.heard]
    assert heard[-1] == "technical_problem" and "pension_balance_is" not in heard
    assert result.variables["HOTLINE_NEXT"] == "agent"
    row = await last_call(hotline)
    assert row.outcome == "error" and row.next_action == "agent"
    assert row.last_node == "12333:pension"  # where it failed, for the supervisor


async def test_a_balance_whose_query_cannot_be_logged_is_not_said(hotline: RunningHotline) -> None:
    """Every query lands in the query log: when its row cannot be written, the caller hears the
    apology instead of the figure, and the call's record says where it failed."""
    async with hotline.app.database.write() as session:
        await session.execute(text("DROP TABLE balance_queries"))
    citizen = hotline.citizens[0]
    result = await run_call(
        "127.0.0.1", hotline.port, "12333", ["1", keyed_id(citizen), password(citizen), "1"]
    )
    heard = [sound.removeprefix("hotline/") for sound in result.heard]
    assert heard[-1] == "technical_problem" and "pension_balance_is" not in heard
    row = await last_call(hotline)
    assert row.outcome == "error" and row.last_node == "12333:pension"


# A constraint the loss report breaks other than its reference (which is drawn again): raised
# by a trigger, on each back-end as the integrity error it would be.
_REFUSE_REPORTS = {
    "sqlite": [
        "CREATE TRIGGER refuse_reports BEFORE INSERT ON loss_reports"
        " BEGIN SELECT RAISE(ABORT, 'refused'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_reports() RETURNS trigger AS $$ BEGIN"
        " RAISE EXCEPTION 'refused' USING ERRCODE = 'check_violation'; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse_reports BEFORE INSERT ON loss_reports"
        " FOR EACH ROW EXECUTE FUNCTION refuse_reports()",
    ],
}


async def test_a_loss_report_the_database_refuses_is_not_confirmed(
    hotline: RunningHotline,
) -> None:
    """An integrity error on the report other than a taken reference is not drawn again: the
    caller hears the apology, not a reference, and the card is not stopped."""
    database = hotline.app.database
    async with database.write() as session:
        for statement in _REFUSE_REPORTS[database.dialect]:
            await session.execute(text(statement))
    citizen = next(c for c in hotline.citizens if c.card_status == CardStatus.NORMAL)
    result = await run_call(
        "127.0.0.1", hotline.port, "96102", ["1", keyed_id(citizen), password(citizen), "1", "2"]
    )
    heard = [sound.removeprefix("hotline/") for sound in result.heard]
    assert heard[-1] == "technical_problem"
    assert "loss_reported" not in heard and "your_reference" not in heard
    assert result.variables["HOTLINE_NEXT"] == "agent"
    row = await last_call(hotline)
    assert row.outcome == "error" and row.last_node == "card_services:loss_report"
    async with database.read() as session:
        status = await session.scalar(
            select(models.Card.status)
            .join(models.Citizen)
            .where(models.Citizen.id_masked == citizen.masked)
        )
        reports = await session.scalar(
            select(func.count())
            .select_from(models.LossReport)
            .where(models.LossReport.call_id == row.id)
        )
    assert status == CardStatus.NORMAL and reports == 0


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
                ["1", keyed_id(citizen), password(citizen)],
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


async def _node_with(database_url: str, tmp_path: Path, stack: AsyncExitStack, **env: str) -> Node:
    """A node as ``hotline serve`` builds it, with settings from the environment ``env``."""
    settings = Settings.load(
        env={"HOTLINE_ID_HASH_KEY": "k", **env}, data_dir=tmp_path / "var", db_url=database_url
    )
    await upgrade_database(database_url)
    return await start_node(dataclasses.replace(settings, agi_port=0, ops_port=0), stack, ami=False)


async def _only_call(node: Node) -> tuple[models.Call, list[str]]:
    async with node.core.database.read() as session:
        (call,) = (await session.scalars(select(models.Call))).all()
        kinds = await session.scalars(
            select(models.CallStep.kind).where(models.CallStep.call_id == call.id)
        )
        return call, list(kinds)


async def _answer_then(port: int, behave: Callable[[asyncio.StreamWriter], Awaitable[None]]) -> int:
    """Asterisk sends the header block, reads the first command, then ``behave``s; the seconds
    until the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            header_block(
                "127.0.0.1", port, "12333", caller_id="13800000000",
                uniqueid="1700000000.5", channel="PJSIP/6001-00000005", language="zh",
            )
        )  # fmt: skip
        claim = await asyncio.wait_for(reader.readline(), 10)
        assert claim.startswith(b'SET VARIABLE "HOTLINE_NODE"'), claim  # this node took it
        writer.write(b"200 result=1\n")
        first = await asyncio.wait_for(reader.readline(), 10)
        assert first.startswith(b"STREAM FILE"), first  # the greeting
        started = asyncio.get_running_loop().time()
        misbehaving = asyncio.create_task(behave(writer))
        try:
            async with asyncio.timeout(10):  # the server must end the call by itself
                with contextlib.suppress(ConnectionError):  # closed with our data unread
                    while await reader.read(65536):
                        pass
        finally:
            misbehaving.cancel()
        return int(asyncio.get_running_loop().time() - started)
    finally:
        writer.close()


async def test_asterisk_silent_after_the_header_ends_the_call_as_interrupted(
    database_url: str, tmp_path: Path
) -> None:
    async def silent(writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(3600)

    async with AsyncExitStack() as stack:
        node = await _node_with(database_url, tmp_path, stack, HOTLINE_AGI_REPLY_SECONDS="0.5")
        assert await _answer_then(node.agi.port, silent) < 5
        call, kinds = await _only_call(node)
        assert node.agi.active_calls == 0
    assert call.outcome == "interrupted" and call.ended_at is not None
    assert call.next_action is None and kinds[-1] == "interrupted"


async def test_an_endless_reply_ends_the_call_as_interrupted(
    database_url: str, tmp_path: Path
) -> None:
    async def flood(writer: asyncio.StreamWriter) -> None:
        writer.write(b"520-Invalid command syntax.  Proper usage follows:\n")
        while True:
            writer.write(b" Usage: more\n" * 100)
            await writer.drain()

    async with AsyncExitStack() as stack:
        node = await _node_with(database_url, tmp_path, stack)  # the default reply allowance
        assert await _answer_then(node.agi.port, flood) < 5
        call, _ = await _only_call(node)
    assert call.outcome == "interrupted" and call.ended_at is not None


async def test_calls_beyond_the_connection_cap_go_to_the_fallback(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with AsyncExitStack() as stack:
        node = await _node_with(database_url, tmp_path, stack, HOTLINE_AGI_MAX_CONNECTIONS="1")
        board = node.core.board
        with board.subscribe() as changes:
            first = asyncio.create_task(
                run_call("127.0.0.1", node.agi.port, "12333", ["0"], audio_seconds=0.3)
            )
            async with asyncio.timeout(10):
                while not board.current().calls:
                    await changes.wait()
                    changes.drain()
        refused = await run_call("127.0.0.1", node.agi.port, "12333", ["0"])
        served = await first
    assert refused.commands == [] and "HOTLINE_NEXT" not in refused.variables  # the fallback
    assert served.variables["HOTLINE_NEXT"] == "agent"
    assert "FastAGI connection from" in caplog.text and "refused" in caplog.text


async def test_a_call_end_the_database_refused_is_written_once_it_is_back(
    hotline: RunningHotline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database restart while a caller hangs up: the caller is not kept waiting for it, and
    the call's end (outcome, path) is written when the database takes it again."""
    monkeypatch.setattr("ivr.runtime.call.FINISH_RETRY_SECONDS", (0.2, 0.2, 0.2))
    records = hotline.app.records
    real_finish = records.finish_call
    refused = 0

    async def restarting(*args: object, **kwargs: object) -> None:
        nonlocal refused
        if refused < 2:
            refused += 1
            raise ConnectionResetError("the database is restarting")
        await real_finish(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(records, "finish_call", restarting)
    result = await run_call("127.0.0.1", hotline.port, "12333", ["2", "9"])
    assert result.variables["HOTLINE_NEXT"] == "agent"  # silent: put through at once
    assert refused == 1  # ... after the first try, before the retries
    async with asyncio.timeout(5):
        while (row := await last_call(hotline)).ended_at is None:  # noqa: ASYNC110 - a row, polled
            await asyncio.sleep(0.05)
    assert refused == 2
    assert row.outcome is not None and row.last_node is not None
