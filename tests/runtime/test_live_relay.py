"""Live calls of several nodes on one console, through the shared PostgreSQL: what each node's
producers push reaches a console's board in another process, a console that joins late learns the
calls already up, and a node found dead takes its calls off every console."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest

from ivr.live.board import LiveBoard, Stage
from ivr.live.events import (
    ChannelChanged,
    ChannelEnded,
    ChannelRefused,
    FlowEnded,
    FlowMoved,
    FlowStarted,
    LiveEvent,
    TelephonyChanged,
)
from ivr.runtime.live_relay import LiveReceiver, LiveSender, pg_connect

pytestmark = pytest.mark.postgres

AT = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


class Node:
    """One node's side: its board, and the tee the composition root gives its producers."""

    def __init__(self, url: str, name: str) -> None:
        self.board = LiveBoard()
        self.sender = LiveSender(pg_connect(url), name, self.board)

    def publish(self, event: LiveEvent) -> None:
        self.board.publish(event)
        self.sender.publish(event)


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:  # noqa: ASYNC109
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "the console's board never showed it"
        await asyncio.sleep(0.05)


def on(board: LiveBoard) -> dict[str, tuple[str, str]]:
    """uniqueid -> (hotline, flow node) of the calls a console shows."""
    return {c.key: (c.hotline, c.node or "") for c in board.current().calls}


@pytest.fixture
async def nodes(postgresql_url: str) -> AsyncIterator[tuple[Node, Node]]:
    one, two = Node(postgresql_url, "node1"), Node(postgresql_url, "node2")
    await one.sender.start()
    await two.sender.start()
    yield one, two
    await one.sender.close()
    await two.sender.close()


@asynccontextmanager
async def console_of(url: str, own_node: str | None = None) -> AsyncIterator[LiveBoard]:
    """A console's board, hearing every node through the database while the block runs."""
    board = LiveBoard()
    receiver = LiveReceiver(pg_connect(url), board, own_node=own_node)
    await receiver.start()
    try:
        yield board
    finally:
        await receiver.close()


def call(uniqueid: str, hotline: str, node: str) -> FlowStarted:
    return FlowStarted(uniqueid, hotline, None, "138****0000", "zh", node, AT)


async def test_a_console_shows_the_calls_of_both_nodes_as_they_move_and_end(
    postgresql_url: str, nodes: tuple[Node, Node]
) -> None:
    one, two = nodes
    async with console_of(postgresql_url) as console:
        one.publish(call("a.1", "12333", "main:menu"))
        two.publish(call("b.1", "96102", "main:menu"))
        two.publish(FlowMoved("b.1", "card:report", "zh"))
        await eventually(
            lambda: on(console) == {"a.1": ("12333", "main:menu"), "b.1": ("96102", "card:report")}
        )
        two.publish(FlowEnded("b.1", "transferred", "agent"))
        two.publish(
            ChannelChanged("b.1", "96102", "138****0000", "Up", AT, "agents", AT, None, False)
        )
        await eventually(lambda: console.current().calls[-1].stage is Stage.WAITING)
        one.publish(FlowEnded("a.1", "served", None))
        one.publish(ChannelEnded("a.1", 16, "Normal Clearing"))
        await eventually(lambda: set(on(console)) == {"b.1"})


async def test_a_console_that_starts_late_is_told_the_calls_already_up(
    postgresql_url: str, nodes: tuple[Node, Node]
) -> None:
    one, two = nodes
    one.publish(call("a.1", "12333", "query:identity"))
    two.publish(call("b.1", "12333", "main:menu"))
    await asyncio.sleep(0.5)  # both told before any console listened: nobody heard it

    async with console_of(postgresql_url) as console:
        await eventually(
            lambda: (
                on(console) == {"a.1": ("12333", "query:identity"), "b.1": ("12333", "main:menu")}
            )
        )


async def test_a_console_that_starts_late_is_told_the_calls_refused_lately(
    postgresql_url: str, nodes: tuple[Node, Node]
) -> None:
    """A surge that began before the console: the nodes' refusals (lines busy) reach it too."""
    one, two = nodes
    now = datetime.now(UTC)
    one.publish(ChannelRefused("a.9", "96102", now))  # refused and gone: no call listed
    two.publish(ChannelChanged("b.9", "12333", "138****0001", "Ring", now))
    two.publish(ChannelRefused("b.9", "12333", now, "en"))  # its caller still hears "lines busy"
    await asyncio.sleep(0.5)  # told before any console listened: nobody heard it

    async with console_of(postgresql_url) as console:
        await eventually(lambda: console.current().refused.total == 2)
        assert console.current().refused.by_hotline == {"12333": 1, "96102": 1}
        (call,) = console.current().calls
        assert (call.key, call.stage, call.language) == ("b.9", Stage.REFUSED, "en")


async def test_a_dead_node_s_calls_leave_the_console_and_the_others_stay(
    postgresql_url: str, nodes: tuple[Node, Node]
) -> None:
    one, two = nodes
    async with console_of(postgresql_url) as console:
        one.publish(call("a.1", "12333", "main:menu"))
        one.publish(call("a.2", "96102", "main:menu"))
        two.publish(call("b.1", "12333", "main:menu"))
        await eventually(lambda: len(on(console)) == 3)
        await one.sender.close()  # node1 is killed; node2's heartbeat finds it dead
        two.sender.node_gone("node1")
        await eventually(lambda: set(on(console)) == {"b.1"})


async def test_the_telephony_banner_is_the_console_s_own_node_s_only(
    postgresql_url: str, nodes: tuple[Node, Node]
) -> None:
    one, two = nodes
    one.publish(TelephonyChanged(True, AT, "AMI connected"))
    async with console_of(postgresql_url, own_node="node1") as console:
        await eventually(lambda: console.current().telephony is not None)  # told on Hello
        two.publish(TelephonyChanged(False, AT, "AMI connection lost"))
        one.publish(call("a.1", "12333", "main:menu"))  # told after node2's
        await eventually(lambda: "a.1" in on(console))
        telephony = console.current().telephony
        assert telephony is not None and telephony.up
        one.publish(TelephonyChanged(False, AT, "AMI connection lost"))
        await eventually(lambda: not console.current().telephony.up)  # type: ignore[union-attr]
