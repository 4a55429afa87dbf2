"""AMIClient: one asyncio connection to Asterisk's manager interface, kept up across restarts.

- Every action carries an ActionID and waits on its own future with its own time-out; an error
  reply is raised (``AMIActionError``), never returned.
- List actions (``CoreShowChannels``...) collect their events until the ``EventList: Complete``
  event; those events do not go to subscribers.
- Other events go to subscribers: plain functions called in order on the reader task. A
  subscriber that raises is logged and the reader goes on.
- A ``Ping`` every ``ping_interval`` seconds proves the link alive; a silent link is dropped.
- On any drop every pending action fails with ``AMIDisconnected`` and nothing is ever replayed
  (an Originate must not run twice); actions asked for while disconnected raise at once. The
  client reconnects with exponential back-off and jitter until closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import logging
import random
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from ivr.ami.errors import (
    AMIActionError,
    AMIConnectError,
    AMIDisconnected,
    AMIError,
    AMILoginError,
    AMITimeout,
)
from ivr.ami.protocol import (
    BANNER_PREFIX,
    FieldValue,
    Framer,
    Message,
    ProtocolError,
    format_action,
    leading_event,
    parse_message,
)
from ivr.config import Settings

__all__ = ["AMIClient", "ActionList", "Backoff", "EventHandler", "StateHandler"]

log = logging.getLogger(__name__)

EventHandler = Callable[[Message], None]
StateHandler = Callable[[bool], None]  # True once logged in (again), False when the link drops


@dataclass(frozen=True)
class Backoff:
    """Delays between reconnection attempts: doubling up to ``maximum``, each cut by a random
    share up to ``jitter`` so that many clients do not hammer a restarted Asterisk together."""

    initial: float = 0.5
    # A supervised Asterisk is back within seconds; a live view that lags half a minute behind
    # it helps nobody, and the jitter already spreads many clients out.
    maximum: float = 5.0
    factor: float = 2.0
    jitter: float = 0.5

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        full = min(self.maximum, self.initial * self.factor ** min(attempt, 64))
        return full * (1 - self.jitter * (rng or random).random())


@dataclass(frozen=True)
class ActionList:
    """The reply of a list action: the response, the listed events, and the closing event."""

    response: Message
    events: list[Message]
    complete: Message


@dataclass
class _Pending:
    name: str
    future: asyncio.Future[Any]
    collect: bool
    response: Message | None = None
    events: list[Message] = field(default_factory=list)


class AMIClient:
    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        *,
        action_timeout: float = 10.0,
        connect_timeout: float = 5.0,
        ping_interval: float = 20.0,
        backoff: Backoff | None = None,
        action_ids: Iterator[str] | None = None,
        events: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self._secret = secret
        self.action_timeout = action_timeout
        self.connect_timeout = connect_timeout
        self.ping_interval = ping_interval
        self.backoff = backoff or Backoff()
        self._events_mask = events  # the Login "Events" field; None: what the user may read
        prefix = f"hl{secrets.token_hex(3)}-"
        self._ids = action_ids or (f"{prefix}{n}" for n in itertools.count(1))
        self._pending: dict[str, _Pending] = {}
        self._subscribers: list[tuple[frozenset[str] | None, EventHandler]] = []
        self._state_handlers: list[StateHandler] = []
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._logged_in = False
        self._up = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._closing = False
        self.connections = 0  # successful logins so far (a reconnect counts again)

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> AMIClient:
        return cls(
            settings.ami_host, settings.ami_port, settings.ami_user, settings.ami_secret, **options
        )

    # -- life cycle ------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._logged_in and self._link_alive()

    def _link_alive(self) -> bool:
        task = self._reader_task
        return self._writer is not None and task is not None and not task.done()

    async def connect(self) -> None:
        """Log in now (raising ``AMIConnectError`` / ``AMILoginError``), then stay connected."""
        self._check_not_started()
        await self._open()
        self._supervisor = asyncio.create_task(self._supervise(first_up=True), name="ami")

    async def start(self) -> None:
        """Keep connecting in the background: for a service that must start while Asterisk is
        still down. ``wait_connected`` tells when the first login is done."""
        self._check_not_started()
        self._supervisor = asyncio.create_task(self._supervise(first_up=False), name="ami")

    async def wait_connected(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            await self._up.wait()

    async def close(self) -> None:
        """Log off, stop reconnecting and fail whatever is still pending."""
        self._closing = True
        if self._logged_in:
            with contextlib.suppress(AMIError, OSError):
                await self.action("Logoff", timeout=2.0)
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await supervisor
        await self._drop("client closed")

    async def __aenter__(self) -> AMIClient:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _check_not_started(self) -> None:
        if self._supervisor is not None or self._closing:
            raise RuntimeError("AMI client already started (or closed)")

    # -- subscriptions ---------------------------------------------------------------------------
    def subscribe(
        self, handler: EventHandler, events: Iterable[str] | None = None
    ) -> Callable[[], None]:
        """Call ``handler(event)`` for every event (or only those named); returns the way to
        unsubscribe. Handlers run on the reader: quick and non-blocking, so not coroutines."""
        _refuse_coroutine(handler)
        names = frozenset(name.lower() for name in events) if events is not None else None
        entry = (names, handler)
        self._subscribers.append(entry)
        return lambda: _discard(self._subscribers, entry)

    def on_state(self, handler: StateHandler) -> Callable[[], None]:
        """Call ``handler(True)`` after each login and ``handler(False)`` after each drop."""
        _refuse_coroutine(handler)
        self._state_handlers.append(handler)
        return lambda: _discard(self._state_handlers, handler)

    # -- actions ---------------------------------------------------------------------------------
    async def action(
        self,
        name: str,
        fields: Mapping[str, FieldValue] | None = None,
        /,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - per action, raised as AMITimeout
        **more: FieldValue,
    ) -> Message:
        """Send one action and return its ``Success`` reply."""
        reply: Message = await self._request(name, {**(fields or {}), **more}, False, timeout)
        return reply

    async def action_list(
        self,
        name: str,
        fields: Mapping[str, FieldValue] | None = None,
        /,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - per action, raised as AMITimeout
        **more: FieldValue,
    ) -> ActionList:
        """Send a list action; return its reply with every listed event once the list is done."""
        result: ActionList = await self._request(name, {**(fields or {}), **more}, True, timeout)
        return result

    async def _request(
        self,
        name: str,
        fields: Mapping[str, FieldValue],
        collect: bool,
        timeout: float | None,  # noqa: ASYNC109
        *,
        logging_in: bool = False,
    ) -> Any:
        writer = self._writer
        if writer is None or not self._link_alive() or not (self._logged_in or logging_in):
            raise AMIDisconnected(f"AMI not connected: {name} not sent")
        action_id = next(self._ids)
        data = format_action(name, action_id, fields)  # a bad field raises before anything waits
        pending = _Pending(name, asyncio.get_running_loop().create_future(), collect)
        self._pending[action_id] = pending
        limit = self.action_timeout if timeout is None else timeout
        try:
            async with asyncio.timeout(limit):
                writer.write(data)
                await writer.drain()
                return await pending.future
        except TimeoutError:
            raise AMITimeout(f"AMI {name}: no reply within {limit:g} s") from None
        except (ConnectionError, OSError) as exc:
            raise AMIDisconnected(f"AMI connection lost sending {name}: {exc}") from exc
        finally:
            self._pending.pop(action_id, None)

    # -- connection ------------------------------------------------------------------------------
    async def _open(self) -> None:
        """Connect, check the banner, log in. On any failure nothing stays open."""
        where = f"{self.host}:{self.port}"
        try:
            async with asyncio.timeout(self.connect_timeout):
                reader, writer = await asyncio.open_connection(self.host, self.port)
        except (OSError, TimeoutError) as exc:
            raise AMIConnectError(f"cannot reach AMI at {where}: {exc or 'timed out'}") from exc
        try:
            async with asyncio.timeout(self.connect_timeout):
                banner = (await reader.readline()).decode("utf-8", errors="replace").strip()
        except (OSError, TimeoutError) as exc:
            writer.close()
            raise AMIConnectError(f"no AMI banner from {where}: {exc or 'timed out'}") from exc
        if not banner.startswith(BANNER_PREFIX):
            writer.close()
            raise AMIConnectError(f"{where} is not AMI (it said {banner[:60]!r})")
        self._writer = writer
        self._reader_task = asyncio.create_task(self._read(reader), name="ami-reader")
        login: dict[str, FieldValue] = {"Username": self.username, "Secret": self._secret}
        if self._events_mask is not None:
            login["Events"] = self._events_mask
        try:
            await self._request("Login", login, False, self.connect_timeout, logging_in=True)
        except AMIActionError as exc:
            await self._drop("login refused")
            raise AMILoginError(
                f"AMI at {where} refused user {self.username!r}: "
                f"{exc.response.get('Message', 'authentication failed')}"
            ) from None
        except AMIError as exc:
            await self._drop("login failed")
            raise AMIConnectError(f"AMI login at {where} failed: {exc}") from exc
        self._logged_in = True
        self.connections += 1
        self._up.set()
        log.info("AMI connected to %s as %s (%s)", where, self.username, banner)
        self._notify_state(True)

    async def _supervise(self, *, first_up: bool) -> None:
        """Serve the current connection; when it drops, reconnect with back-off, until closed."""
        attempt = 0
        up = first_up
        while not self._closing:
            if not up:
                try:
                    await self._open()
                    up = True
                except AMILoginError as exc:
                    log.error("%s; retrying", exc)  # a wrong secret: keep trying, loudly
                except AMIConnectError as exc:
                    log.warning("%s; retrying", exc)
                except Exception:  # a bug here must not end reconnection for good
                    log.exception("AMI connection attempt failed")
                    await self._drop("connection attempt failed")
                if not up:
                    delay = self.backoff.delay(attempt)
                    attempt += 1
                    log.debug("AMI reconnect attempt %d in %.2f s", attempt, delay)
                    await asyncio.sleep(delay)
                    continue
            attempt = 0
            reason = await self._serve()
            await self._drop(reason)
            up = False

    async def _serve(self) -> str:
        """Wait until the connection ends (EOF, error, failed keep-alive); say why."""
        reader_task = self._reader_task
        assert reader_task is not None
        pinger = asyncio.create_task(self._keepalive(), name="ami-ping")
        try:
            done, _ = await asyncio.wait({reader_task, pinger}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pinger
        if pinger in done and not pinger.cancelled() and pinger.exception() is None:
            return pinger.result()
        return "connection closed by Asterisk"

    async def _keepalive(self) -> str:
        while True:
            await asyncio.sleep(self.ping_interval)
            try:
                await self.action("Ping", timeout=max(2.0, self.ping_interval / 2))
            except AMITimeout:
                return "no answer to keep-alive Ping"
            except AMIDisconnected:
                return "connection lost during keep-alive"
            except AMIActionError:
                pass  # an error reply still proves the link alive

    async def _drop(self, reason: str) -> None:
        """Close the link, fail every pending action, tell state handlers. Idempotent."""
        was_up = self._logged_in
        self._logged_in = False
        self._up.clear()
        writer, self._writer = self._writer, None
        reader_task, self._reader_task = self._reader_task, None
        self._fail_pending()
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, TimeoutError):
                async with asyncio.timeout(1.0):
                    await writer.wait_closed()
        if reader_task is not None and reader_task is not asyncio.current_task():
            reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader_task
        if was_up:
            if self._closing:
                log.info("AMI connection closed")
            else:
                log.warning("AMI connection to %s:%s lost: %s", self.host, self.port, reason)
            self._notify_state(False)

    def _fail_pending(self) -> None:
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(
                    AMIDisconnected(f"AMI connection lost before the reply to {pending.name}")
                )
        self._pending.clear()

    # -- reading ---------------------------------------------------------------------------------
    async def _read(self, reader: asyncio.StreamReader) -> None:
        framer = Framer()
        try:
            while data := await reader.read(65536):
                for text in framer.feed(data):
                    if not self._unread(text):
                        self._route(parse_message(text))
        except (ConnectionError, OSError) as exc:
            log.debug("AMI read failed: %s", exc)
        except ProtocolError as exc:
            log.error("AMI stream from %s:%s unusable: %s", self.host, self.port, exc)
        finally:
            self._up.clear()  # at once, not when the supervisor notices
            self._fail_pending()

    def _unread(self, text: str) -> bool:
        """An event no subscriber reads and no pending action lists: dropped before parsing
        (where manager.conf does not filter them out at the source)."""
        name = leading_event(text)
        if name is None:
            return False
        lower = name.lower()
        if any(names is None or lower in names for names, _ in self._subscribers):
            return False
        return not self._pending or "ActionID" not in text

    def _route(self, message: Message) -> None:
        action_id = message.action_id
        pending = self._pending.get(action_id) if action_id is not None else None
        if pending is not None and not pending.future.done():
            if message.response is not None:
                self._on_response(pending, message)
                return
            if pending.collect and message.event is not None:
                if message.get("EventList", "").lower() == "complete":
                    response = pending.response or message
                    pending.future.set_result(ActionList(response, pending.events, message))
                else:
                    pending.events.append(message)
                return
        if message.event is not None:
            self._dispatch(message)
        elif message.response is not None:
            log.debug("AMI reply to no pending action (%s): dropped", action_id)

    def _on_response(self, pending: _Pending, message: Message) -> None:
        if (message.response or "").lower() == "error":
            pending.future.set_exception(AMIActionError(pending.name, message))
        elif not pending.collect:
            pending.future.set_result(message)
        else:
            pending.response = message  # the listed events and the Complete event follow

    def _dispatch(self, event: Message) -> None:
        name = (event.event or "").lower()
        for names, handler in list(self._subscribers):
            if names is not None and name not in names:
                continue
            try:
                handler(event)
            except Exception:  # one bad subscriber must not stop the reader
                log.exception("AMI subscriber %r failed on %s", handler, event.event)

    def _notify_state(self, up: bool) -> None:
        for handler in list(self._state_handlers):
            try:
                handler(up)
            except Exception:
                log.exception("AMI state handler %r failed", handler)


def _discard(items: list[Any], item: object) -> None:
    if item in items:
        items.remove(item)


def _refuse_coroutine(handler: object) -> None:
    if inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
        getattr(handler, "__call__", None)  # noqa: B004
    ):
        raise TypeError(
            f"{handler!r} is a coroutine function: AMI handlers are plain functions "
            "(start a task or fill a queue from them)"
        )
    if not callable(handler):
        raise TypeError(f"{handler!r} is not callable")
