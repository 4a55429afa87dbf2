"""Fixtures for the AGI tests: a channel over a real TCP socket driven line by line, and a server."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from ivr.agi import AGIChannel, FastAGIServer, Handler

# tests/agipeer.py is shared with the full-call tests and the benchmark; it is imported as a
# top-level module (no package __init__ files under tests/).
_TESTS_DIR = str(Path(__file__).resolve().parents[1])
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

ENV = {
    "agi_network": "yes",
    "agi_network_script": "12333?lang=zh&x=1",
    "agi_request": "agi://127.0.0.1:4573/12333?lang=zh&x=1",
    "agi_channel": "PJSIP/6001-00000001",
    "agi_language": "en",
    "agi_uniqueid": "1700000000.1",
    "agi_callerid": "13800000000",
    "agi_arg_1": "first",
    "agi_arg_2": "second, with comma",
}

STEP = 5.0  # seconds any single step of a test may take before it counts as frozen


@dataclass
class RawCall:
    """The Asterisk end of one channel, driven by the test one line at a time."""

    channel: AGIChannel
    reader: asyncio.StreamReader  # what the channel writes (commands)
    writer: asyncio.StreamWriter  # what the channel reads (replies)
    server_reader: asyncio.StreamReader  # the channel's own reader, to check nothing is left

    async def expect(self) -> str:
        line = await asyncio.wait_for(self.reader.readline(), STEP)
        assert line.endswith(b"\n"), f"channel closed instead of sending a command: {line!r}"
        return line.decode().rstrip("\n")

    async def send(self, *lines: str) -> None:
        self.writer.write("".join(line + "\n" for line in lines).encode())
        await self.writer.drain()

    async def answer(self, call: Awaitable[object], *lines: str) -> tuple[str, object]:
        """Run one channel call, answer its command with ``lines``: (command line, result)."""
        task = asyncio.ensure_future(call)
        command = await self.expect()
        await self.send(*lines)
        return command, await asyncio.wait_for(task, STEP)

    async def nothing_written(self) -> bool:
        try:
            data = await asyncio.wait_for(self.reader.read(1), 0.1)
        except TimeoutError:
            return True
        return data == b""


@pytest.fixture
async def raw_call() -> AsyncIterator[RawCall]:
    accepted: asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
        asyncio.get_running_loop().create_future()
    )

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set_result((reader, writer))

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    asterisk_reader, asterisk_writer = await asyncio.open_connection("127.0.0.1", port)
    server_reader, server_writer = await asyncio.wait_for(accepted, STEP)
    channel = AGIChannel(server_reader, server_writer, ENV, command_timeout=STEP)
    try:
        yield RawCall(channel, asterisk_reader, asterisk_writer, server_reader)
    finally:
        for writer in (asterisk_writer, server_writer):
            writer.close()
        server.close()
        await server.wait_closed()


ServeFactory = Callable[..., AbstractAsyncContextManager[FastAGIServer]]


@pytest.fixture
def serve() -> ServeFactory:
    """``async with serve({"12333": handler}, header_timeout=...) as server:`` on an ephemeral port."""

    @asynccontextmanager
    async def factory(
        routes: Mapping[str, Handler],
        *,
        header_timeout: float = 1.0,
        command_timeout: float | None = None,
        stop_grace: float = 1.0,
    ) -> AsyncIterator[FastAGIServer]:
        server = FastAGIServer(
            routes,
            port=0,
            header_timeout=header_timeout,
            command_timeout=command_timeout,
            stop_grace=stop_grace,
        )
        async with server:
            yield server

    return factory
