"""AMIBridge: live calls as Asterisk sees them, and the hang-up facts for the call records.

The bridge follows channel events (Newchannel, Newstate, Newexten, VarSet, AGIExecStart/End, queue
events, Hangup) and keeps one entry per channel. A channel is a *call* once its hotline is known
(it entered the dialplan at 12333/96102, or HOTLINE was set on it) and it is not an outgoing leg
Asterisk dialled (the ``;1`` half of a Local channel, an agent's phone).

On ``Hangup`` of a caller's channel the call record is completed with Asterisk's cause and the
length the bridge measured, by uniqueid: the flow stores ``agi_uniqueid``, the uniqueid of the
channel running the AGI, which for a Local channel is the ``;2`` half. A record is opened when
the FastAGI call starts, so a very quick hang-up may come first: completing is retried a few
times for channels that ran the AGI.

After every (re)connection the state is rebuilt from ``CoreShowChannels``: calls that ended
while AMI was down are dropped (their cause is unknown), calls already up are picked up.

Everything taken from AMI goes through ``redact`` (ID-number masking): AGI commands carry
prompt names and variables, never the caller's keys, but nothing here relies on that.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Protocol

from ivr.ami.channels import OUTGOING_LINE, LiveChannel, Tracked, caller_id_of, hms_seconds
from ivr.ami.client import AMIClient
from ivr.ami.errors import AMIError
from ivr.ami.protocol import Message
from ivr.config import Settings

# The one import outside config: what masks ID numbers in logs must mask them here too.
from ivr.domain.hotlines import HOTLINES
from ivr.domain.idnumber import mask_ids_in_text

__all__ = ["AMIBridge", "FlowCalls", "HangupStore", "LiveChannel", "start_bridge"]

log = logging.getLogger(__name__)

# Asterisk's texts for the ITU-T Q.850 causes a hotline call ends with.
Q850_TEXTS: Mapping[int, str] = {
    16: "Normal Clearing",
    17: "User busy",
    18: "No user responding",
    19: "User alerting, no answer",
    21: "Call Rejected",
    31: "Normal, unspecified",
    34: "Circuit/channel congestion",
    127: "Interworking, unspecified",
}


def _cause(event: Message) -> int | None:
    field = event.get("Cause", "")
    return int(field) if field.isdigit() else None


_UP = "6"  # ChannelState of an answered channel
# Keys that identify channels and commands: matched against the records, so never rewritten.
_IDENTITY = frozenset({"uniqueid", "linkedid", "destuniqueid", "destlinkedid", "commandid"})


class HangupStore(Protocol):
    """What the bridge needs of the records (``ivr.store.records.Records`` fits)."""

    async def complete_hangup(
        self,
        uniqueid: str,
        *,
        cause: int | None,
        cause_text: str | None,
        duration_s: int | None,
        billsec: int | None,
    ) -> bool: ...


class FlowCall(Protocol):
    @property
    def uniqueid(self) -> str: ...

    @property
    def node(self) -> str: ...


class FlowCalls(Protocol):
    """The flow's own live calls (``ivr.runtime.live.LiveCalls`` fits): where each caller is."""

    def snapshot(self) -> Sequence[FlowCall]: ...


class AMIBridge:
    def __init__(
        self,
        client: AMIClient,
        store: HangupStore,
        *,
        redact: Callable[[str], str],
        hotlines: Collection[str] = HOTLINES,
        flow_nodes: Callable[[], Mapping[str, str]] | None = None,
        retry_delays: Sequence[float] = (0.5, 1.0, 2.0, 4.0),
        owns_client: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.store = store
        self.redact = redact
        self.hotlines = frozenset(hotlines)
        self.flow_nodes = flow_nodes
        self.retry_delays = tuple(retry_delays)
        self.owns_client = owns_client
        self.clock = clock
        self.completed = 0  # call records completed with a hang-up cause
        self.unmatched = 0  # hang-ups of channels that ran the AGI but had no record
        self._channels: dict[str, Tracked] = {}
        self._watchers: set[asyncio.Queue[dict[str, Any]]] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._unsubscribe: list[Callable[[], None]] = []

    # -- life cycle ------------------------------------------------------------------------------
    def start(self) -> None:
        """Follow the client's events from now on, and rebuild the state at each login."""
        if self._unsubscribe:
            raise RuntimeError("bridge already started")
        self._unsubscribe = [
            self.client.subscribe(self.feed, self._handlers),
            self.client.on_state(self._on_state),
        ]
        if self.client.connected:
            self._spawn(self.resync())

    async def close(self, grace: float = 5.0) -> None:
        """Stop following; give pending record updates ``grace`` seconds; close an owned client."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                log.warning("AMI bridge: %d hang-up update(s) abandoned at close", len(pending))
                await asyncio.wait(pending, timeout=1.0)
        if self.owns_client:
            await self.client.close()

    async def settle(self) -> None:
        """Wait until the record updates started so far are done (tests, shutdown)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    # -- what the console reads ------------------------------------------------------------------
    def snapshot(self, *, everything: bool = False) -> list[LiveChannel]:
        """The calls in progress (every channel with ``everything``), oldest first."""
        nodes = self.flow_nodes() if self.flow_nodes is not None else {}
        now = self.clock()
        channels = sorted(self._channels.values(), key=lambda c: c.created)
        return [c.view(now, nodes.get(c.uniqueid)) for c in channels if everything or c.is_call]

    def watch(self) -> asyncio.Queue[dict[str, Any]]:
        """A queue of changes to calls: ``{"event": "started"|"updated"|"ended", ...}``."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=100)
        self._watchers.add(queue)
        return queue

    def unwatch(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._watchers.discard(queue)

    # -- events ----------------------------------------------------------------------------------
    def feed(self, event: Message) -> None:
        """Apply one AMI event (the client calls this; tests feed recorded events)."""
        name = event.event or ""
        handler = self._handlers.get(name)
        if handler is not None:
            handler(self, self._redacted(event))

    def _redacted(self, event: Message) -> Message:
        return Message(
            [(k, v if k.lower() in _IDENTITY else self.redact(v)) for k, v in event.pairs]
        )

    def _on_newchannel(self, event: Message) -> None:
        channel = self._channel(event)
        channel.state = event.get("ChannelStateDesc", channel.state)
        if event.get("ChannelState") == _UP and channel.answered is None:
            channel.answered = channel.created

    def _on_newstate(self, event: Message) -> None:
        channel = self._channel(event)
        before = channel.state
        channel.state = event.get("ChannelStateDesc", channel.state)
        if event.get("ChannelState") == _UP and channel.answered is None:
            channel.answered = self.clock()
        if channel.state != before:
            self._changed(channel)

    def _on_newcallerid(self, event: Message) -> None:
        self._channel(event).caller_id = caller_id_of(event)

    def _on_rename(self, event: Message) -> None:
        channel = self._channel(event)
        channel.channel = event.get("Newname", channel.channel)

    def _on_newexten(self, event: Message) -> None:
        channel = self._channel(event)
        if event.get("AppData") == OUTGOING_LINE:
            channel.outgoing = True
            return
        was_call = channel.is_call
        channel.dialplan = True
        application = event.get("Application") or None
        exten = event.get("Exten", "")
        if exten in self.hotlines and channel.hotline is None:
            channel.hotline = exten
        if application != channel.application:
            channel.application = application
            if application != "AGI":
                channel.command = None
            self._changed(channel, started=not was_call)
        elif channel.is_call and not was_call:
            self._changed(channel, started=True)

    def _on_varset(self, event: Message) -> None:
        channel = self._channel(event)
        variable = event.get("Variable", "").lstrip("_")
        value = event.get("Value", "")
        was_call = channel.is_call
        if variable == "HOTLINE" and value and value != channel.hotline:
            channel.hotline = value
        elif variable == "HOTLINE_FALLBACK" and value == "1" and not channel.fallback:
            channel.fallback = True
        else:
            return
        self._changed(channel, started=channel.is_call and not was_call)

    def _on_agi_start(self, event: Message) -> None:
        channel = self._channel(event)
        channel.ran_agi = channel.dialplan = True
        channel.application = "AGI"
        channel.command = event.get("Command") or None
        channel.command_id = event.get("CommandId")
        self._changed(channel)

    def _on_agi_end(self, event: Message) -> None:
        channel = self._channel(event)
        if channel.command_id is None or channel.command_id == event.get("CommandId"):
            channel.command = None
            channel.command_id = None

    def _on_queue_join(self, event: Message) -> None:
        channel = self._channel(event)
        channel.queue = event.get("Queue") or "?"
        channel.waiting_since = self.clock()
        self._changed(channel)

    def _on_queue_leave(self, event: Message) -> None:
        channel = self._channel(event)
        if channel.queue is not None:
            channel.queue = None
            channel.waiting_since = None
            self._changed(channel)

    def _on_agent_connect(self, event: Message) -> None:
        channel = self._channel(event)  # the caller; Dest* fields are the agent's channel
        agent = event.get("MemberName") or event.get("Interface") or event.get("DestChannel")
        channel.agent = agent
        channel.queue = None
        channel.waiting_since = None
        self._changed(channel)

    def _on_hangup_request(self, event: Message) -> None:
        channel = self._channels.get(event.get("Uniqueid", ""))
        cause = _cause(event)
        if channel is not None and cause:
            channel.requested_cause = cause

    def _on_hangup(self, event: Message) -> None:
        uniqueid = event.get("Uniqueid", "")
        channel = self._channels.pop(uniqueid, None)
        now = self.clock()
        cause = _cause(event)
        cause_text = event.get("Cause-txt") or None
        if not cause and channel is not None and channel.requested_cause:
            # A caller's BYE during the AGI ends with cause 0 (Unknown) on the final event;
            # the request just before it says what happened.
            cause = channel.requested_cause
            cause_text = Q850_TEXTS.get(cause, cause_text)
        duration = billsec = None
        if channel is not None and channel.known_start:
            duration = round(now - channel.created)
            billsec = round(now - channel.answered) if channel.answered is not None else 0
        if channel is not None and channel.is_call:
            self._notify("ended", channel, now, cause=cause, cause_text=cause_text)
        if channel is not None and channel.outgoing:
            return  # the caller's own channel carries the call record
        log.info(
            "hang-up %s (%s): cause %s %s, %s s",
            uniqueid,
            event.get("Channel", "?"),
            cause,
            cause_text or "",
            duration if duration is not None else "?",
        )
        retries = self.retry_delays if channel is not None and channel.ran_agi else ()
        self._spawn(self._complete(uniqueid, cause, cause_text, duration, billsec, retries))

    _handlers: ClassVar[Mapping[str, Callable[[AMIBridge, Message], None]]] = {
        "Newchannel": _on_newchannel,
        "Newstate": _on_newstate,
        "NewCallerid": _on_newcallerid,
        "Rename": _on_rename,
        "Newexten": _on_newexten,
        "VarSet": _on_varset,
        "AGIExecStart": _on_agi_start,
        "AGIExecEnd": _on_agi_end,
        "QueueCallerJoin": _on_queue_join,
        "QueueCallerLeave": _on_queue_leave,
        "QueueCallerAbandon": _on_queue_leave,
        "AgentConnect": _on_agent_connect,
        "HangupRequest": _on_hangup_request,
        "SoftHangupRequest": _on_hangup_request,
        "Hangup": _on_hangup,
    }

    # -- records ---------------------------------------------------------------------------------
    async def _complete(
        self,
        uniqueid: str,
        cause: int | None,
        cause_text: str | None,
        duration: int | None,
        billsec: int | None,
        retries: Sequence[float],
    ) -> None:
        for delay in (0.0, *retries):
            await asyncio.sleep(delay)
            try:
                found = await self.store.complete_hangup(
                    uniqueid,
                    cause=cause,
                    cause_text=cause_text,
                    duration_s=duration,
                    billsec=billsec,
                )
            except Exception:  # the database may be down: the call itself is long over
                log.exception("could not record the hang-up of %s", uniqueid)
                return
            if found:
                self.completed += 1
                return
        if retries:
            self.unmatched += 1
            log.warning("hang-up of %s: no call record with that uniqueid", uniqueid)

    # -- (re)connection --------------------------------------------------------------------------
    def _on_state(self, up: bool) -> None:
        if up:
            self._spawn(self.resync())

    async def resync(self) -> None:
        """Rebuild the channel list from ``CoreShowChannels`` (after a (re)connection)."""
        asked = self.clock()
        try:
            listing = await self.client.action_list("CoreShowChannels")
        except AMIError as exc:
            log.warning("AMI bridge: cannot list the channels: %s", exc)
            return
        now = self.clock()
        listed = {raw.get("Uniqueid", "") for raw in listing.events}
        # Known before the listing was asked for and not listed: ended while AMI was down.
        for gone in [c for c in self._channels.values() if c.uniqueid not in listed]:
            if gone.created <= asked:
                del self._channels[gone.uniqueid]
                if gone.is_call:
                    self._notify("ended", gone, now, cause=None, cause_text="unknown: AMI was down")
        for raw in listing.events:
            if raw.event == "CoreShowChannel" and raw.get("Uniqueid", "") not in self._channels:
                await self._adopt(self._redacted(raw), raw.get("Channel", ""), now)
        log.info("AMI bridge: %d channel(s) up", len(self._channels))

    async def _adopt(self, item: Message, name: str, now: float) -> None:
        """A channel that was up before the bridge saw it start (``name`` as Asterisk knows it)."""
        duration = item.get("Duration", "")
        channel = self._channel(item, created=now - hms_seconds(duration))
        channel.known_start = bool(duration)
        channel.state = item.get("ChannelStateDesc", "")
        channel.application = item.get("Application") or None
        channel.outgoing = item.get("ApplicationData") == OUTGOING_LINE or (
            name.startswith("Local/") and name.endswith(";1")
        )
        channel.dialplan = not channel.outgoing
        if channel.state == "Up":
            channel.answered = channel.created  # unknown: billable from the start, at most
        if item.get("Exten") in self.hotlines:
            channel.hotline = item.get("Exten")
        if channel.hotline is None and channel.dialplan:
            channel.hotline = await self._hotline_var(name)
        if channel.is_call:
            self._changed(channel, started=True)

    async def _hotline_var(self, channel: str) -> str | None:
        try:
            reply = await self.client.action("Getvar", Channel=channel, Variable="HOTLINE")
        except AMIError:
            return None
        value = self.redact(reply.get("Value", ""))
        return value if value and value != "(null)" else None

    # -- helpers ---------------------------------------------------------------------------------
    def _channel(self, event: Message, created: float | None = None) -> Tracked:
        uniqueid = event.get("Uniqueid", "")
        channel = self._channels.get(uniqueid)
        if channel is None:
            created = self.clock() if created is None else created
            started = datetime.now(UTC) - timedelta(seconds=self.clock() - created)
            channel = Tracked(
                uniqueid=uniqueid,
                linkedid=event.get("Linkedid", uniqueid),
                channel=event.get("Channel", ""),
                created=created,
                started_at=started,
                caller_id=caller_id_of(event),
            )
            if event.event != "Newchannel" and event.event != "CoreShowChannel":
                channel.known_start = False  # first seen mid-call: its length is unknown
            self._channels[uniqueid] = channel
        return channel

    def _changed(self, channel: Tracked, *, started: bool = False) -> None:
        if channel.is_call:
            self._notify("started" if started else "updated", channel, self.clock())

    def _notify(self, kind: str, channel: Tracked, now: float, **more: Any) -> None:
        if not self._watchers:
            return
        nodes = self.flow_nodes() if self.flow_nodes is not None else {}
        view = asdict(channel.view(now, nodes.get(channel.uniqueid)))
        view["started_at"] = channel.started_at.isoformat()
        message = {"event": kind, **view, **more}
        for queue in self._watchers:
            if not queue.full():  # a slow reader misses changes rather than stalling the bridge
                queue.put_nowait(message)

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def start_bridge(
    settings: Settings,
    records: HangupStore,
    live: FlowCalls | None = None,
    *,
    connect_wait: float = 5.0,
) -> AMIBridge:
    """The bridge for ``hotline serve`` / ``hotline up``: its own AMI client, kept connected in
    the background (Asterisk may start later or restart); ``await bridge.close()`` stops both."""
    client = AMIClient.from_settings(settings)
    nodes = (lambda: {c.uniqueid: c.node for c in live.snapshot()}) if live is not None else None
    bridge = AMIBridge(client, records, redact=mask_ids_in_text, flow_nodes=nodes, owns_client=True)
    bridge.start()  # subscribed before the first login, so no event is missed
    await client.start()
    try:
        await client.wait_connected(connect_wait)
    except TimeoutError:
        log.warning(
            "AMI at %s:%s not reachable yet: live calls and hang-up causes wait for it",
            settings.ami_host,
            settings.ami_port,
        )
    return bridge
