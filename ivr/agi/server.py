"""FastAGIServer: accepts Asterisk's FastAGI connections and runs one handler per call.

Routes are an explicit table from script name (the path of ``agi://host:port/<script>``) to an
async handler, checked when the server is built. Each connection is served in one place that
catches everything: a hang-up is logged at info, any other error with its traceback, and the
server goes on serving other calls whatever one call does. Beyond ``max_connections`` at once a
connection is closed at once, with a warning (and ``on_refused``): Asterisk then runs the
dialplan's fallback. ``on_command`` is given to each call's channel (its commands' round trips).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import socket
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType, TracebackType
from typing import Any

from ivr.agi.channel import AGIChannel, CommandObserver, read_env
from ivr.agi.errors import AGIError, AGIHangup, AGIProtocolError

__all__ = ["FastAGIServer", "Handler"]

log = logging.getLogger(__name__)

Handler = Callable[[AGIChannel], Awaitable[None]]

ERROR_VARIABLE = "HOTLINE_ERROR"  # set on a live channel when a call fails, for the dialplan


def _is_async_callable(handler: object) -> bool:
    if inspect.iscoroutinefunction(handler):
        return True
    call = getattr(handler, "__call__", None)  # noqa: B004 - an object with an async __call__
    return call is not None and inspect.iscoroutinefunction(call)


def _route_table(routes: Mapping[str, Handler]) -> dict[str, Handler]:
    table: dict[str, Handler] = {}
    for name, handler in routes.items():
        script = name.strip("/")
        if not script or "?" in script:
            raise ValueError(f"bad AGI script name {name!r}")
        if script in table:
            raise ValueError(f"AGI script {script!r} routed twice")
        if not _is_async_callable(handler):
            raise TypeError(
                f"handler for AGI script {script!r} is not an async function: {handler!r}"
            )
        table[script] = handler
    return table


class FastAGIServer:
    def __init__(
        self,
        routes: Mapping[str, Handler],
        host: str = "127.0.0.1",
        port: int = 4573,
        header_timeout: float = 5.0,
        *,
        command_timeout: float | None = None,
        stop_grace: float = 5.0,
        backlog: int = 1024,
        max_connections: int | None = None,
        on_command: CommandObserver | None = None,
        on_refused: Callable[[], None] = lambda: None,
    ) -> None:
        self.routes: Mapping[str, Handler] = MappingProxyType(_route_table(routes))
        self.host = host
        self._port = port
        self.header_timeout = header_timeout
        self.command_timeout = command_timeout
        self.stop_grace = stop_grace
        self.backlog = backlog
        self.max_connections = max_connections  # None: no cap
        self._on_command = on_command
        self._on_refused = on_refused
        self._server: asyncio.Server | None = None
        self._calls: set[asyncio.Task[Any]] = set()

    # -- life cycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("FastAGI server already started")
        # a burst of calls must not wait on SYN retries: Asterisk gives up connecting after 2 s
        self._server = await asyncio.start_server(
            self._on_connect, self.host, self._port, backlog=self.backlog
        )
        log.info(
            "FastAGI listening on %s:%d (scripts: %s)", self.host, self.port, ", ".join(self.routes)
        )

    async def stop(self, grace: float | None = None) -> None:
        """Stop listening, give running calls ``grace`` seconds to end, then cancel them."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        await asyncio.sleep(0)  # let connections accepted just now start their task
        if self._calls:
            _, pending = await asyncio.wait(
                set(self._calls), timeout=self.stop_grace if grace is None else grace
            )
            for task in pending:
                task.cancel()
            if pending:
                log.warning("FastAGI stop: cancelled %d running call(s)", len(pending))
                await asyncio.wait(pending, timeout=1.0)  # a handler may swallow the cancel
        await server.wait_closed()
        log.info("FastAGI server stopped")

    async def __aenter__(self) -> FastAGIServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        return tuple(self._server.sockets) if self._server is not None else ()

    @property
    def port(self) -> int:
        """The listening port; the real one when the server was asked for port 0."""
        for sock in self.sockets:
            return int(sock.getsockname()[1])
        return self._port

    @property
    def active_calls(self) -> int:
        return len(self._calls)

    # -- one connection --------------------------------------------------------------------------
    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.max_connections is not None and len(self._calls) >= self.max_connections:
            log.warning(
                "FastAGI connection from %s refused: %d connections open, the most this server "
                "takes (max_connections); Asterisk's fallback answers the call",
                writer.get_extra_info("peername"), len(self._calls),
            )  # fmt: skip
            self._on_refused()
            await _close(writer)
            return
        task = asyncio.current_task()
        assert task is not None
        self._calls.add(task)
        try:
            await self._serve(reader, writer)
        except Exception:  # the one place that catches: no call may take the server down
            log.exception("FastAGI connection failed")
        finally:
            self._calls.discard(task)
            await _close(writer)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            env = await read_env(reader, self.header_timeout)
        except AGIProtocolError as exc:
            peer = writer.get_extra_info("peername")
            log.warning("FastAGI connection from %s dropped: %s", peer, exc)
            return
        if env is None:
            peer = writer.get_extra_info("peername")
            log.debug("FastAGI connection from %s closed before any header", peer)
            return
        channel = AGIChannel(
            reader,
            writer,
            env,
            command_timeout=self.command_timeout,
            on_command=self._on_command,
        )
        try:
            await self._run(channel)
        finally:
            channel.release()

    async def _run(self, channel: AGIChannel) -> None:
        call = f"{channel.uniqueid} {channel.channel}"
        script = channel.network_script
        handler = self.routes.get(script)
        if handler is None:
            log.warning("call %s: no route for AGI script %r", call, script)
            await _report(channel, "unknown_script", f"hotline: no AGI script {script!r}")
            return
        log.info("call %s: script %s", call, script)
        try:
            await handler(channel)
        except AGIHangup as exc:
            log.info("call %s: caller hung up (%s)", call, exc)
        except asyncio.CancelledError:
            log.warning("call %s: cancelled after %d commands", call, channel.commands_sent)
            raise
        except Exception:
            log.exception(
                "call %s: script %s failed after %d commands (last: %s)",
                call, script, channel.commands_sent, channel.last_command,
            )  # fmt: skip
            await _report(channel, "internal_error", None)
        else:
            log.info(
                "call %s: script %s done after %d commands", call, script, channel.commands_sent
            )


async def _report(channel: AGIChannel, error: str, message: str | None) -> None:
    """Tell the dialplan what went wrong (HOTLINE_ERROR), never on a hung-up channel."""
    if channel.hung_up:
        return
    try:
        async with asyncio.timeout(2.0):
            if message:
                await channel.verbose(message)
            await channel.set_variable(ERROR_VARIABLE, error)
    except (AGIError, TimeoutError) as exc:
        log.info("call %s: could not set %s: %s", channel.uniqueid, ERROR_VARIABLE, exc)


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError, OSError, TimeoutError):
        if not writer.transport.get_write_buffer_size():
            await writer.wait_closed()  # nothing left to send: closed on the loop's next turn
            return
        async with asyncio.timeout(1.0):  # a peer that reads nothing cannot hold the call
            await writer.wait_closed()
