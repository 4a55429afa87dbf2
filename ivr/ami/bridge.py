"""AMIBridge: Asterisk's side of every call, pushed to the live board and the call records.

The bridge follows channel events (Newchannel, Newstate, Newexten, VarSet, queue events, Hangup;
not the two events of every AGI command, which the client drops unparsed: the flow's own
commands tell it nothing the records and the board lack) and keeps one ``Channel`` per channel,
each event applied by the pure reducer (``ivr.ami.reducer``). What the reducer says an event
means is passed on, one way:

- a caller's channel appeared, changed or ended -> ``ChannelChanged`` / ``ChannelEnded`` to
  ``publish`` (the live board's ``publish``, given at construction);
- the dialplan refused a caller's channel, the node full -> ``ChannelRefused`` (lines busy);
- a hang-up -> the ``HangupRecorder`` completes the call record with the cause and lengths;
- the AMI link up or lost -> ``TelephonyChanged`` (can calls come in at all).

After every (re)connection the channels are rebuilt from ``CoreShowChannels`` (``ivr.ami.resync``);
a caller found hearing the busy prompt comes back refused.
Everything taken from AMI goes through ``redact`` (ID-number masking).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection, Coroutine, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from ivr.ami.channels import Channel, Now
from ivr.ami.client import AMIClient
from ivr.ami.hangups import HangupRecorder, HangupStore
from ivr.ami.protocol import Message
from ivr.ami.reducer import (
    EVENTS,
    CallChanged,
    CallEnded,
    CallRefused,
    Effect,
    HangupFacts,
    apply_event,
)
from ivr.ami.resync import Redacted, list_channels
from ivr.config import Settings
from ivr.domain.hotlines import HOTLINES

# The one import outside config: what masks ID numbers in logs must mask them here too.
from ivr.domain.idnumber import mask_ids_in_text
from ivr.live.events import (
    ChannelChanged,
    ChannelEnded,
    ChannelRefused,
    LiveEvent,
    TelephonyChanged,
)

__all__ = ["AMIBridge", "start_bridge"]

log = logging.getLogger(__name__)

LivePublisher = Callable[[LiveEvent], None]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class AMIBridge:
    def __init__(
        self,
        client: AMIClient,
        *,
        publish: LivePublisher,
        hangups: HangupRecorder,
        redact: Callable[[str], str] = mask_ids_in_text,
        hotlines: Collection[str] = HOTLINES,
        owns_client: bool = False,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.client = client
        self.publish = publish
        self.hangups = hangups
        self.redact = redact
        self.hotlines = frozenset(hotlines)
        self.owns_client = owns_client
        self.clock = clock
        self.wall = wall
        self._channels: dict[str, Channel] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._unsubscribe: list[Callable[[], None]] = []

    @property
    def channels(self) -> Mapping[str, Channel]:
        """Every channel followed now, by uniqueid (read-only; for diagnostics and tests)."""
        return MappingProxyType(self._channels)

    # -- life cycle ------------------------------------------------------------------------------
    def start(self) -> None:
        """Follow the client's events from now on, and rebuild the channels at each login."""
        if self._unsubscribe:
            raise RuntimeError("bridge already started")
        self._unsubscribe = [
            self.client.subscribe(self.feed, EVENTS),
            self.client.on_state(self._on_state),
        ]
        if self.client.connected:  # logged in already: no state change will say so
            self._on_state(True)

    async def close(self, grace: float = 5.0) -> None:
        """Stop following; give pending record updates ``grace`` seconds; close an owned client."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        for task in list(self._tasks):
            task.cancel()
        await self.hangups.close(grace)
        if self.owns_client:
            await self.client.close()

    async def settle(self) -> None:
        """Wait until the record updates started so far are done (tests, shutdown)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))
        await self.hangups.settle()

    # -- events ----------------------------------------------------------------------------------
    def feed(self, event: Message) -> None:
        """Apply one AMI event (the client calls this; tests feed recorded events)."""
        uniqueid = event.get("Uniqueid", "")
        before = self._channels.get(uniqueid)
        after, effects = apply_event(
            before, Redacted(event, self.redact), self._now(), self.hotlines
        )
        if after is None:
            self._channels.pop(uniqueid, None)
        else:
            self._channels[uniqueid] = after
        for effect in effects:
            self._carry_out(effect)

    def _carry_out(self, effect: Effect) -> None:
        match effect:
            case CallChanged(channel=channel):
                self.publish(_changed(channel))
            case CallRefused(channel=channel, at=at):
                self.publish(_refused(channel, at))
            case CallEnded(channel=channel, cause=cause, cause_text=text):
                self.publish(ChannelEnded(channel.uniqueid, cause, text))
            case HangupFacts():
                self.hangups.record(effect)

    def _now(self) -> Now:
        return Now(self.clock(), self.wall())

    # -- (re)connection --------------------------------------------------------------------------
    def _on_state(self, up: bool) -> None:
        where = f"{self.client.host}:{self.client.port}"
        reason = f"AMI connected to {where}" if up else f"AMI link to {where} lost"
        self.publish(TelephonyChanged(up, self.wall(), reason))
        if up:
            self._spawn(self.resync())

    async def resync(self) -> None:
        """Rebuild the channels from ``CoreShowChannels`` (after a (re)connection)."""
        found = await list_channels(
            self.client, self._channels, now=self._now, redact=self.redact, hotlines=self.hotlines
        )
        if found is None:
            log.warning("AMI bridge: cannot list the channels")
            return
        for gone in found.gone:
            del self._channels[gone.uniqueid]
            if gone.is_call:
                self.publish(ChannelEnded(gone.uniqueid, None, "unknown: AMI was down"))
        for channel in found.adopted:
            self._channels.setdefault(channel.uniqueid, channel)
            if channel.is_call:
                self.publish(_changed(channel))
        for uniqueid, language in found.refused.items():
            refusing = self._channels.get(uniqueid)
            if refusing is None or refusing.refused_in is not None:
                continue  # ended meanwhile, or its VarSet came after the listing: told already
            refusing = refusing.changed(refused_in=language)
            self._channels[uniqueid] = refusing
            # Refused as it came in: the busy path is the dialplan's first step.
            self.publish(_refused(refusing, refusing.started_at))
        log.info("AMI bridge: %d channel(s) up", len(self._channels))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _refused(channel: Channel, at: datetime) -> ChannelRefused:
    return ChannelRefused(channel.uniqueid, channel.hotline or "", at, channel.refused_in)


def _changed(channel: Channel) -> ChannelChanged:
    return ChannelChanged(
        uniqueid=channel.uniqueid,
        hotline=channel.hotline or "",
        caller_id=channel.caller_id,
        state=channel.state,
        started_at=channel.started_at,
        queue=channel.queue,
        waiting_since=channel.waiting_since,
        agent=channel.agent,
        fallback=channel.fallback,
    )


async def start_bridge(
    settings: Settings,
    records: HangupStore,
    publish: LivePublisher,
    *,
    call_ended: Callable[[str, str], None] | None = None,
    connect_wait: float = 5.0,
) -> AMIBridge:
    """The bridge for ``hotline serve`` / ``hotline up``: its own AMI client, kept connected in
    the background (Asterisk may start later or restart); ``await bridge.close()`` stops both.
    ``call_ended(hotline, outcome)``: told of the calls the dialplan refused (node metrics)."""
    client = AMIClient.from_settings(settings)
    hangups = HangupRecorder(records, call_ended=call_ended)
    bridge = AMIBridge(client, publish=publish, hangups=hangups, owns_client=True)
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
