"""Live calls across nodes, through the shared PostgreSQL (``LISTEN``/``NOTIFY``).

Each node's ``LiveSender`` tells every event its producers push (the call runner, the AMI bridge)
on one channel; a console's ``LiveReceiver`` listens and publishes them into its own board, which
the console reads as it reads a node's. A receiver that joins, or reconnects, says ``Hello``: each
sender answers with what its board holds (``LiveBoard.replay``). A node found dead by another's
heartbeat is announced (``NodeGone``): its calls leave the consoles' boards.

Nothing here ever slows a call: a sender queues (bounded, oldest dropped) and sends from its own
task on its own connection; while the database is away it drops, then reconnects and carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from ivr.live.board import LiveBoard
from ivr.live.events import ChannelEnded, LiveEvent, TelephonyChanged
from ivr.live.wire import Hello, NodeGone, WireError, decode, encode

__all__ = ["CHANNEL", "LiveReceiver", "LiveSender"]

log = logging.getLogger(__name__)

CHANNEL = "hotline_live"
QUEUE_LIMIT = 10_000
RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0)

Connect = Callable[[], Awaitable[Any]]  # an asyncpg connection


def pg_connect(dsn: str) -> Connect:
    """A connection to the database at ``dsn`` (``postgresql://...``, without a driver suffix)."""
    plain = dsn.replace("postgresql+asyncpg://", "postgresql://", 1)
    return lambda: asyncpg.connect(plain, timeout=5)


def _setter(event: asyncio.Event) -> Callable[[Any], None]:
    return lambda _connection: event.set()


class _Link:
    """One dedicated connection, kept up: reconnects with back-off until closed."""

    def __init__(self, connect: Connect, name: str, on_connected: Callable[[Any], Awaitable[None]]):
        self._connect = connect
        self._name = name
        self._on_connected = on_connected
        self.connection: Any = None
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._keep(), name=self._name)

    async def wait_ready(self, timeout: float) -> bool:  # noqa: ASYNC109
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), timeout)
        return self._ready.is_set()

    async def _keep(self) -> None:
        attempt = 0
        while True:
            try:
                self.connection = await self._connect()
                lost = asyncio.Event()
                self.connection.add_termination_listener(_setter(lost))
                await self._on_connected(self.connection)
                self._ready.set()
                attempt = 0
                await lost.wait()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                if attempt == 0:
                    log.warning(
                        "live relay %s: database unreachable (%s); retrying", self._name, exc
                    )
            self._ready.clear()
            self.connection = None
            await asyncio.sleep(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])
            attempt += 1

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.connection is not None:
            with contextlib.suppress(Exception):
                await self.connection.close(timeout=2)


class LiveSender:
    """This node's live events, told to every console; given to the producers with the board's
    ``publish`` (the composition root tees them)."""

    def __init__(self, connect: Connect, node: str, board: LiveBoard) -> None:
        self.node = node
        self._board = board  # read on a Hello: what this node has to tell a new console
        self._queue: deque[str] = deque(maxlen=QUEUE_LIMIT)
        self._waiting = asyncio.Event()
        self._link = _Link(connect, f"sender-{node}", self._listen_for_hello)
        self._task: asyncio.Task[None] | None = None

    def publish(self, event: LiveEvent) -> None:
        self._queue.append(encode(event, self.node))
        self._waiting.set()

    def node_gone(self, node: str) -> None:
        """Another node was found dead (the heartbeat's sweep): its calls leave the consoles."""
        self._queue.append(encode(NodeGone(node), self.node))
        self._waiting.set()

    async def start(self, wait: float = 5.0) -> None:
        self._link.start()
        self._task = asyncio.create_task(self._send(), name=f"live-sender-{self.node}")
        if not await self._link.wait_ready(wait):
            log.warning("live relay: no database yet; consoles see this node's calls once it is")

    def _tell_all(self) -> None:
        for event in self._board.replay():
            self.publish(event)

    async def _listen_for_hello(self, connection: Any) -> None:
        def heard(_c: Any, _pid: int, _channel: str, payload: str) -> None:
            with contextlib.suppress(WireError):
                if isinstance(decode(payload)[1], Hello):
                    self._tell_all()

        await connection.add_listener(CHANNEL, heard)
        self._tell_all()  # (re)connected: consoles may have missed what happened meanwhile

    async def _send(self) -> None:
        while True:
            await self._waiting.wait()
            connection = self._link.connection
            if connection is None:
                self._queue.clear()  # the database is away: live news is stale when it is back
                self._waiting.clear()
                await self._link.wait_ready(3600)
                continue
            while self._queue:
                payload = self._queue[0]
                try:
                    await connection.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    break  # the link keeper reconnects; the queue waits
                self._queue.popleft()
            if not self._queue:
                self._waiting.clear()
            else:
                await asyncio.sleep(0.2)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._link.close()


class LiveReceiver:
    """Every node's live events, into this process's ``board`` (a console's).

    Calls come from every node; the telephony banner only from ``own_node`` (the node this console
    runs beside, if any): one node's Asterisk is not the cluster's, each node's ``/readyz`` says it.
    """

    def __init__(self, connect: Connect, board: LiveBoard, own_node: str | None = None) -> None:
        self._board = board
        self._own_node = own_node
        self._keys: dict[str, set[str]] = {}  # node -> the calls it told of
        self._link = _Link(connect, "receiver", self._listen)

    async def start(self, wait: float = 5.0) -> None:
        self._link.start()
        if not await self._link.wait_ready(wait):
            log.warning("live relay: no database yet; live calls appear once it is reachable")

    async def _listen(self, connection: Any) -> None:
        # (Re)connected: what was heard before may be stale (calls ended while the link was
        # down); forget it, and every node tells again what it holds.
        for node in list(self._keys):
            self._forget(node, "the live link was lost")
        await connection.add_listener(CHANNEL, self._heard)
        await connection.execute("SELECT pg_notify($1, $2)", CHANNEL, encode(Hello(), "console"))

    def _heard(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            node, message = decode(payload)
        except WireError as exc:
            log.warning("live relay: %s", exc)
            return
        if isinstance(message, Hello):
            return
        if isinstance(message, TelephonyChanged):
            if node == self._own_node:
                self._board.publish(message)
            return
        if isinstance(message, NodeGone):
            self._forget(message.node, "its node stopped")
            return
        self._board.publish(message)
        keys = self._keys.setdefault(node, set())
        if self._board.holds(message.uniqueid):
            keys.add(message.uniqueid)
        else:
            keys.discard(message.uniqueid)

    def _forget(self, node: str, why: str) -> None:
        for key in self._keys.pop(node, set()):
            self._board.publish(ChannelEnded(key, None, why))

    async def close(self) -> None:
        await self._link.close()
