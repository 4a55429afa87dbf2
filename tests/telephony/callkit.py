"""Helpers of the real-Asterisk tests: ports, settings, a raw AMI client, a raw FastAGI listener,
a Local-channel call into a hotline and the hotline itself behind the Asterisk (``Line``); the
fixtures that use them are in conftest.py."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy import func, select

from ivr.agi.server import FastAGIServer
from ivr.ami.bridge import AMIBridge
from ivr.config import Settings
from ivr.stack import Core
from ivr.store import models
from ivr.store.seed import DemoCitizen

Event = Mapping[str, str]


def free_port(kind: socket.SocketKind = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def shared_rootfs() -> Path:
    """The cache `hotline up` uses too, so the root is built once per machine, not per session."""
    return Settings.load().data_dir.resolve() / "asterisk" / "rootfs"


def forget_dialplan_messages(settings: Settings) -> None:
    """Delete the messages the dialplan recorded for earlier tests' calls. The recordings folder
    is the session's, each test's database its own: a node starting on a fresh one would take
    those messages for calls no hotline process took, and give each a call record there."""
    for message in settings.recordings_dir.glob("message-*.wav"):
        message.unlink(missing_ok=True)


def make_settings(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        agi_port=free_port(),
        ami_port=free_port(),
        sip_port=free_port(socket.SOCK_DGRAM),
    )


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


class Call:
    """A Local-channel call into a hotline; the dialplan runs on the second half (;2)."""

    def __init__(self, ami: AMIClient, number: str) -> None:
        self.ami = ami
        self.number = number
        self.caller_id = uuid.uuid4().hex[:16]  # ;1, runs Wait
        self.hotline_id = uuid.uuid4().hex[:16]  # ;2, runs the hotline's dialplan

    async def place(self, wait_s: int = 60) -> None:
        reply = await self.ami.action(
            "Originate",
            Channel=f"Local/{self.number}@hotline-local",
            Application="Wait",
            Data=str(wait_s),
            Async="true",
            ChannelId=self.caller_id,
            OtherChannelId=self.hotline_id,
        )
        assert reply["Response"] == "Success", reply

    def steps(self) -> list[tuple[str, str]]:
        return self.ami.app_calls({self.hotline_id})

    def variable(self, name: str) -> str | None:
        for event in reversed(self.ami.events):
            if (
                event.get("Event") == "VarSet"
                and event.get("Uniqueid") == self.hotline_id
                and event.get("Variable") == name
            ):
                return event.get("Value")
        return None

    async def reached(self, application: str) -> None:
        await self.ami.wait_event(
            lambda e: (
                e.get("Event") == "Newexten"
                and e.get("Uniqueid") == self.hotline_id
                and e.get("Application") == application
            )
        )

    async def ended(self) -> None:
        await self.ami.wait_event(
            lambda e: e.get("Event") == "Hangup" and e.get("Uniqueid") == self.hotline_id
        )

    async def hang_up(self, after_s: float = 1.0) -> None:
        await asyncio.sleep(after_s)  # hung up at once, Record would not even open its file
        channel = await self.ami.wait_event(
            lambda e: e.get("Event") == "Newchannel" and e.get("Uniqueid") == self.caller_id
        )
        reply = await self.ami.action("Hangup", Channel=channel["Channel"])
        assert reply["Response"] == "Success", reply
        await self.ended()


# --- the hotline behind the Asterisk --------------------------------------------------------------


class Phone(Protocol):
    """A caller's or an agent's phone a test starts (sipp, baresip)."""

    async def kill(self) -> None: ...


@dataclass
class Line:
    """The hotline behind the session's Asterisk for one test."""

    app: Core
    server: FastAGIServer
    bridge: AMIBridge
    settings: Settings
    citizens: list[DemoCitizen]
    name: str  # the test's: phones keep their logs under test-output/<tool>/<name>/
    started: float
    phones: list[Phone] = field(default_factory=list)  # killed at teardown

    async def call_rows(self) -> list[models.Call]:
        async with self.app.database.read() as session:
            return list(await session.scalars(select(models.Call).order_by(models.Call.id)))

    async def settled(self, within: float = 15) -> None:
        """Every flow has ended and written its call record (a phone may exit a moment before)."""
        deadline = time.monotonic() + within
        while self.server.active_calls and time.monotonic() < deadline:  # noqa: ASYNC110 - polled
            await asyncio.sleep(0.05)

    async def only_call(self, hotline: str) -> models.Call:
        await self.settled()
        rows = await self.call_rows()
        assert len(rows) == 1, (
            f"expected one call record, found {[(r.id, r.hotline) for r in rows]}"
        )
        assert rows[0].hotline == hotline
        return rows[0]

    async def hung_up(self, call_id: int, within: float = 10) -> models.Call:
        """The call record once the AMI bridge has added Asterisk's hang-up cause and length."""
        deadline = time.monotonic() + within
        while True:
            async with self.app.database.read() as session:
                row = await session.get(models.Call, call_id, populate_existing=True)
            assert row is not None
            if row.hangup_cause is not None or time.monotonic() > deadline:
                return row
            await asyncio.sleep(0.1)

    async def steps(self, call_id: int) -> list[models.CallStep]:
        async with self.app.database.read() as session:
            return list(
                await session.scalars(
                    select(models.CallStep)
                    .where(models.CallStep.call_id == call_id)
                    .order_by(models.CallStep.seq)
                )
            )

    async def describe(self) -> str:
        """Every call record with its steps: what the flow made of the keys it was sent."""
        lines = []
        for row in await self.call_rows():
            lines.append(
                f"call {row.id} {row.hotline}: outcome={row.outcome} next={row.next_action} "
                f"last_node={row.last_node} ended_at={row.ended_at}"
            )
            for step in await self.steps(row.id):
                lines.append(f"  {step.seq:3} {step.node:40} {step.kind:9} {step.key or ''} "
                             f"{step.detail}")  # fmt: skip
        return "\n".join(lines) or "no call record"

    async def count(self, model: type[models.Base]) -> int:
        async with self.app.database.read() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)
