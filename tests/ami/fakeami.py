"""A small AMI server over a real socket, for the client and bridge tests.

It greets like Asterisk, checks the login, answers Ping and Logoff, lists channels, and lets a
test choose the reply to any other action (or no reply at all), push events and recorded bytes,
drop every connection, and stop and start again on the same port (an Asterisk restart).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ivr.ami.protocol import Framer, Message, parse_message

__all__ = ["FakeAMI", "Reply"]

# What a handler returns: messages to send back (each a list of header pairs), or None for none.
Reply = list[list[tuple[str, str]]] | None
Handler = Callable[[Message], Reply]


def encode(pairs: Sequence[tuple[str, str]]) -> bytes:
    return ("".join(f"{key}: {value}\r\n" for key, value in pairs) + "\r\n").encode()


@dataclass
class _Session:
    writer: asyncio.StreamWriter
    logged_in: bool = False


@dataclass
class FakeAMI:
    username: str = "hotline"
    secret: str = "secret"
    port: int = 0
    banner: str = "Asterisk Call Manager/11.0.0"
    handlers: dict[str, Handler] = field(default_factory=dict)
    channels: list[list[tuple[str, str]]] = field(default_factory=list)  # CoreShowChannel items
    actions: list[Message] = field(default_factory=list)
    logins: int = 0
    answer_pings: bool = True

    def __post_init__(self) -> None:
        self._server: asyncio.Server | None = None
        self._sessions: list[_Session] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.received = asyncio.Event()  # set on every action received

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and close every connection (as Asterisk does when it stops)."""
        if self._server is not None:
            self._server.close()
        await self.drop_connections()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def drop_connections(self) -> None:
        for session in list(self._sessions):
            session.writer.close()  # the session's reader sees the end and its task returns
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=2.0)
        self._sessions.clear()

    def count(self, action: str) -> int:
        return sum(1 for message in self.actions if message.get("Action") == action)

    async def wait_for_action(self, action: str, count: int = 1, within: float = 5.0) -> None:
        async with asyncio.timeout(within):
            while self.count(action) < count:
                self.received.clear()
                await self.received.wait()

    async def push_event(self, *pairs: tuple[str, str]) -> None:
        await self.push_raw(encode(pairs))

    async def push_raw(self, data: bytes, chunk: int = 0) -> None:
        """Send bytes to every logged-in connection, in pieces of ``chunk`` bytes if given."""
        for session in self._sessions:
            if not session.logged_in:
                continue
            pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)] if chunk else [data]
            for piece in pieces:
                session.writer.write(piece)
                await session.writer.drain()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        session = _Session(writer)
        self._sessions.append(session)
        framer = Framer()
        try:
            writer.write(f"{self.banner}\r\n".encode())
            while data := await reader.read(65536):
                for text in framer.feed(data):
                    message = parse_message(text)
                    self.actions.append(message)
                    self.received.set()
                    for reply in self._reply(session, message) or []:
                        writer.write(encode(reply))
                    if message.get("Action", "").lower() == "logoff":
                        await writer.drain()
                        return
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._tasks.discard(task)
            with contextlib.suppress(ValueError):
                self._sessions.remove(session)
            writer.close()

    def _reply(self, session: _Session, message: Message) -> Reply:
        action = message.get("Action", "")
        action_id = message.get("ActionID", "")
        ok = [("Response", "Success"), ("ActionID", action_id)]
        if action.lower() == "login":
            if message.get("Username") == self.username and message.get("Secret") == self.secret:
                session.logged_in = True
                self.logins += 1
                return [[*ok, ("Message", "Authentication accepted")]]
            return [[("Response", "Error"), ("ActionID", action_id),
                     ("Message", "Authentication failed")]]  # fmt: skip
        if not session.logged_in:
            return [[("Response", "Error"), ("ActionID", action_id),
                     ("Message", "Permission denied")]]  # fmt: skip
        if action in self.handlers:
            return self.handlers[action](message)
        if action.lower() == "ping":
            return [[*ok, ("Ping", "Pong")]] if self.answer_pings else None
        if action.lower() == "logoff":
            return [[("Response", "Goodbye"), ("ActionID", action_id)]]
        if action == "CoreShowChannels":
            items = [[("Event", "CoreShowChannel"), ("ActionID", action_id), *channel]
                     for channel in self.channels]  # fmt: skip
            complete = [("Event", "CoreShowChannelsComplete"), ("ActionID", action_id),
                        ("EventList", "Complete"), ("ListItems", str(len(items)))]  # fmt: skip
            return [[*ok, ("EventList", "start"), ("Message", "Channels will follow")],
                    *items, complete]  # fmt: skip
        return [[*ok, ("Message", f"{action} done")]]
