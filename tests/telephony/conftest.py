"""Fixtures for the telephony tests: one real Asterisk per session, a raw AMI client, and a raw
FastAGI listener that lets a test play the hotline's side of a call line by line.

The Asterisk runs from the cached root file system (built on first use, about 20-40 s) with its
own data folder and free ports, so it never collides with a `hotline up` on the same machine.
Missing tools make these tests fail with what to install; they are never skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_asyncio

from ivr.config import Settings
from ivr.telephony import LocalAsterisk, TelephonyError
from ivr.telephony.rootfs import require_tools

Event = Mapping[str, str]


def free_port(kind: socket.SocketKind = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def shared_rootfs() -> Path:
    """The cache `hotline up` uses too, so the root is built once per machine, not per session."""
    return Settings.load().data_dir.resolve() / "asterisk" / "rootfs"


def make_settings(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        agi_port=free_port(),
        ami_port=free_port(),
        sip_port=free_port(socket.SOCK_DGRAM),
    )


@pytest.fixture(scope="session")
def asterisk_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("asterisk-data"))


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def asterisk(asterisk_settings: Settings) -> AsyncIterator[LocalAsterisk]:
    try:
        require_tools("mmdebstrap", "chroot", "unshare", "nsenter", "mount")
    except TelephonyError as exc:
        pytest.fail(f"the real-Asterisk tests cannot run: {exc}", pytrace=False)
    instance = LocalAsterisk(asterisk_settings, rootfs=shared_rootfs())
    await instance.start()
    try:
        yield instance
    finally:
        await instance.stop()


class AMIClient:
    """Just enough AMI for assertions: login, actions by ActionID, every event kept in order."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.events: list[Event] = []
        self._responses: dict[str, asyncio.Future[Event]] = {}
        self._changed = asyncio.Condition()
        self._ids = itertools.count(1)
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def connect(cls, settings: Settings) -> AMIClient:
        reader, writer = await asyncio.open_connection(settings.ami_host, settings.ami_port)
        banner = await reader.readline()
        assert banner.startswith(b"Asterisk Call Manager"), banner
        client = cls(reader, writer)
        client._task = asyncio.create_task(client._read())
        return client

    async def _read(self) -> None:
        block: dict[str, str] = {}
        while line := await self.reader.readline():
            text = line.decode(errors="replace").rstrip("\r\n")
            if text:
                key, _, value = text.partition(":")
                block.setdefault(key.strip(), value.strip())
                continue
            message, block = block, {}
            if "Response" in message and message.get("ActionID") in self._responses:
                self._responses.pop(message["ActionID"]).set_result(message)
            elif "Event" in message:
                async with self._changed:
                    self.events.append(message)
                    self._changed.notify_all()

    async def action(self, name: str, **fields: str) -> Event:
        action_id = f"t{next(self._ids)}"
        reply: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self._responses[action_id] = reply
        lines = [f"Action: {name}", f"ActionID: {action_id}"]
        lines += [f"{key}: {value}" for key, value in fields.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await self.writer.drain()
        return await asyncio.wait_for(reply, 10)

    async def wait_event(self, match: Callable[[Event], bool], within: float = 20) -> Event:
        async def found() -> Event:
            async with self._changed:
                seen = 0
                while True:
                    for event in self.events[seen:]:
                        if match(event):
                            return event
                    seen = len(self.events)
                    await self._changed.wait()

        return await asyncio.wait_for(found(), within)

    def app_calls(self, uniqueids: set[str]) -> list[tuple[str, str]]:
        """(application, data) of every dialplan step the given channels ran, in order."""
        return [
            (e["Application"], e.get("AppData", ""))
            for e in self.events
            if e.get("Event") == "Newexten" and e.get("Uniqueid") in uniqueids
        ]

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.action("Logoff"), 2)
        if self._task is not None:
            self._task.cancel()
        self.writer.close()


@pytest_asyncio.fixture(loop_scope="session")
async def ami(asterisk: LocalAsterisk, asterisk_settings: Settings) -> AsyncIterator[AMIClient]:
    client = await AMIClient.connect(asterisk_settings)
    login = await client.action(
        "Login", Username=asterisk_settings.ami_user, Secret=asterisk_settings.ami_secret
    )
    assert login["Response"] == "Success", login
    yield client
    await client.close()


@dataclass
class AGIConnection:
    """One call Asterisk handed to the listener: its header block and a line-level command."""

    headers: dict[str, str]
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    async def command(self, line: str) -> str:
        self.writer.write(line.encode() + b"\n")
        await self.writer.drain()
        reply = await asyncio.wait_for(self.reader.readline(), 20)
        return reply.decode().strip()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


@dataclass
class AGIListener:
    calls: asyncio.Queue[AGIConnection] = field(default_factory=asyncio.Queue)

    async def on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        headers: dict[str, str] = {}
        while (line := (await reader.readline()).decode().strip()) != "":
            key, _, value = line.partition(": ")
            headers[key] = value
        await self.calls.put(AGIConnection(headers, reader, writer))

    async def next_call(self, within: float = 15) -> AGIConnection:
        return await asyncio.wait_for(self.calls.get(), within)


@pytest_asyncio.fixture(loop_scope="session")
async def agi_listener(
    asterisk: LocalAsterisk, asterisk_settings: Settings
) -> AsyncIterator[AGIListener]:
    listener = AGIListener()
    server = await asyncio.start_server(
        listener.on_connect, asterisk_settings.agi_host, asterisk_settings.agi_port
    )
    try:
        yield listener
    finally:
        server.close()
        await server.wait_closed()


async def wait_until(check: Callable[[], bool], within: float = 10) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.1)
