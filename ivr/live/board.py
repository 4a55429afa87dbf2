"""The live board: every call in progress in this process, merged from what its producers push.

Two producers describe the same call, keyed by the channel's uniqueid: the call runtime (the
caller's place in the menus) and the AMI bridge (Asterisk's channel: answered, waiting for an
agent, talking to one, hearing the fallback). The board merges them into one ``LiveCall`` and
tells subscribers that something changed. Readers (console pages, the event stream, the JSON API,
tests) read snapshots or subscribe; the board never calls a producer back.

A call leaves the board when Asterisk says its channel hung up, or when its flow ends and no
channel of it is known (no AMI bridge, or a call the bridge never saw).

A call the dialplan refuses because the node is full stays listed, as refused, while its caller
hears that the lines are busy; it is no call in progress (``LiveSnapshot.counts``), and the board
counts it among the calls refused over the last minutes (``ivr.live.refusals``), which a surge
makes climb.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

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
from ivr.live.fanout import Fanout, Subscription
from ivr.live.refusals import REFUSED_WINDOW, RecentRefusals, RefusedCounts

__all__ = ["LiveBoard", "LiveCall", "LiveChange", "LiveSnapshot", "Stage", "Telephony"]


class Stage(enum.StrEnum):
    """Where a caller is, as a supervisor would say it."""

    CONNECTING = "connecting"  # on the line, the flow not started yet
    MENUS = "menus"  # in the flow: hearing prompts, keying entries
    WAITING = "waiting"  # in the agent queue
    AGENT = "agent"  # talking to an agent
    FALLBACK = "fallback"  # the flow did not finish: apology, then agents
    LEAVING = "leaving"  # the flow is over; the dialplan finishes the call (message, goodbye)
    REFUSED = "refused"  # the node is full: told the lines are busy, then refused (no flow)


@dataclass(frozen=True)
class LiveCall:
    """One call in progress, as readers see it; ``seconds`` are as of the snapshot."""

    key: str  # the channel's uniqueid
    hotline: str
    stage: Stage
    call_id: int | None  # the call record, once the flow opened it
    caller_id: str
    language: str | None
    node: str | None  # ``flow:node`` in the menus (the last one after them)
    queue: str | None
    agent: str | None
    started_at: datetime
    seconds: float
    waiting_seconds: float | None


@dataclass(frozen=True)
class Telephony:
    """Whether calls can come in: Asterisk up (its AMI link) or down, since when, and why."""

    up: bool
    since: datetime
    reason: str


@dataclass(frozen=True)
class LiveSnapshot:
    at: datetime
    calls: tuple[LiveCall, ...]  # those being refused too: their callers are still on the line
    refused: RefusedCounts  # calls refused (lines busy) in the last minutes
    telephony: Telephony | None = None  # None: no AMI bridge tells (the console alone, tests)

    @property
    def in_progress(self) -> tuple[LiveCall, ...]:
        """The calls the node took: one being refused is not (the cap does not count it)."""
        return tuple(call for call in self.calls if call.stage is not Stage.REFUSED)

    def counts(self, hotlines: tuple[str, ...]) -> dict[str, int]:
        """Calls in progress per hotline."""
        calls = self.in_progress
        return {line: sum(1 for c in calls if c.hotline == line) for line in hotlines}


@dataclass(frozen=True)
class LiveChange:
    """A call appeared, changed or left; ``cause`` is Asterisk's hang-up cause when it left."""

    kind: str  # "started" | "updated" | "ended" | "telephony" | "refused" (a call not listed)
    key: str
    cause: int | None = None
    cause_text: str | None = None


@dataclass(frozen=True)
class _Flow:
    call_id: int | None
    language: str
    node: str
    running: bool = True


@dataclass(frozen=True)
class _Entry:
    key: str
    hotline: str
    started_at: datetime
    caller_id: str = ""
    flow: _Flow | None = None
    channel: ChannelChanged | None = None
    refused_at: datetime | None = None
    refused_in: str | None = None  # the busy prompt's language: a refused call has no flow


def _utcnow() -> datetime:
    return datetime.now(UTC)


class LiveBoard:
    source = "board"  # readers may say where the list comes from
    refresh_seconds = 15.0  # a reader with no change to wait for re-reads this often

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] = _utcnow,
        capacity: int = 100,
        refused_window: timedelta = REFUSED_WINDOW,
    ) -> None:
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._refused = RecentRefusals(refused_window)
        self._telephony: Telephony | None = None
        self._changes: Fanout[LiveChange] = Fanout(capacity)

    # -- the producers' side ----------------------------------------------------------------------
    def publish(self, event: LiveEvent) -> None:
        match event:
            case FlowStarted():
                self._flow_started(event)
            case FlowMoved():
                self._flow_moved(event)
            case FlowEnded():
                self._flow_ended(event)
            case ChannelChanged():
                self._channel_changed(event)
            case ChannelEnded():
                self._channel_ended(event)
            case ChannelRefused():
                self._channel_refused(event)
            case TelephonyChanged():
                self._telephony_changed(event)

    def _flow_started(self, event: FlowStarted) -> None:
        before = self._entries.get(event.uniqueid)
        entry = before or _Entry(event.uniqueid, event.hotline, event.at)
        self._entries[event.uniqueid] = replace(
            entry,
            started_at=min(entry.started_at, event.at),
            caller_id=entry.caller_id or event.caller_id,
            flow=_Flow(event.call_id, event.language, event.node),
        )
        self._changed("started" if before is None else "updated", event.uniqueid)

    def _flow_moved(self, event: FlowMoved) -> None:
        entry = self._entries.get(event.uniqueid)
        if entry is None or entry.flow is None or not entry.flow.running:
            return  # the call already left (hung up): a late move changes nothing
        flow = replace(entry.flow, node=event.node, language=event.language)
        self._entries[event.uniqueid] = replace(entry, flow=flow)
        self._changed("updated", event.uniqueid)

    def _flow_ended(self, event: FlowEnded) -> None:
        entry = self._entries.get(event.uniqueid)
        if entry is None or entry.flow is None:
            return
        if entry.channel is None:  # nothing else keeps the caller on the board
            del self._entries[event.uniqueid]
            self._changed("ended", event.uniqueid)
            return
        self._entries[event.uniqueid] = replace(entry, flow=replace(entry.flow, running=False))
        self._changed("updated", event.uniqueid)

    def _channel_changed(self, event: ChannelChanged) -> None:
        before = self._entries.get(event.uniqueid)
        entry = before or _Entry(event.uniqueid, event.hotline, event.started_at)
        self._entries[event.uniqueid] = replace(
            entry,
            started_at=min(entry.started_at, event.started_at),
            caller_id=event.caller_id or entry.caller_id,
            channel=event,
        )
        self._changed("started" if before is None else "updated", event.uniqueid)

    def _channel_ended(self, event: ChannelEnded) -> None:
        if self._entries.pop(event.uniqueid, None) is not None:
            self._changed("ended", event.uniqueid, event.cause, event.cause_text)

    def _channel_refused(self, event: ChannelRefused) -> None:
        counted = self._refused.add(event.uniqueid, event.hotline, event.at, self._clock())
        entry = self._entries.get(event.uniqueid)
        if entry is not None and entry.refused_at is None:
            self._entries[event.uniqueid] = replace(
                entry, refused_at=event.at, refused_in=event.language
            )
            self._changed("updated", event.uniqueid)
        elif counted:  # a refusal of a call not listed (told again by a replay): only the count
            self._changed("refused", event.uniqueid)

    def _telephony_changed(self, event: TelephonyChanged) -> None:
        before = self._telephony
        if before is not None and before.up == event.up:
            return  # the same state again (a reconnection while up): not news
        self._telephony = Telephony(event.up, event.at, event.reason)
        self._changed("telephony", "")

    def _changed(
        self, kind: str, key: str, cause: int | None = None, cause_text: str | None = None
    ) -> None:
        self._changes.publish(LiveChange(kind, key, cause, cause_text))

    # -- the readers' side ------------------------------------------------------------------------
    def current(self) -> LiveSnapshot:
        """The calls in progress now, oldest first."""
        now = self._clock()
        calls = sorted(
            (_view(entry, now) for entry in self._entries.values()), key=lambda c: c.started_at
        )
        return LiveSnapshot(now, tuple(calls), self._refused.counts(now), self._telephony)

    def holds(self, key: str) -> bool:
        """Whether the call ``key`` is on the board."""
        return key in self._entries

    def replay(self) -> list[LiveEvent]:
        """Events that rebuild the calls on this board on another one (a console that joins)."""
        events: list[LiveEvent] = []
        if self._telephony is not None:
            t = self._telephony
            events.append(TelephonyChanged(t.up, t.since, t.reason))
        for entry in self._entries.values():
            if entry.channel is not None:
                events.append(entry.channel)
            if entry.flow is not None:
                flow = entry.flow
                events.append(
                    FlowStarted(
                        entry.key,
                        entry.hotline,
                        flow.call_id,
                        entry.caller_id,
                        flow.language,
                        flow.node,
                        entry.started_at,
                    )
                )
                if not flow.running:
                    events.append(FlowEnded(entry.key, None, None))
        refused: dict[str, ChannelRefused] = {}
        for entry in self._entries.values():
            if entry.refused_at is not None:
                refused[entry.key] = ChannelRefused(
                    entry.key, entry.hotline, entry.refused_at, entry.refused_in
                )
        for key, hotline, at in self._refused:
            refused.setdefault(key, ChannelRefused(key, hotline, at))
        events.extend(refused.values())
        return events

    async def snapshot(self) -> LiveSnapshot:
        """``current()``, for readers that also read the database-backed view (``LiveView``)."""
        return self.current()

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[Subscription[LiveChange]]:
        with self._changes.subscribe() as subscription:
            yield subscription


def _stage(entry: _Entry) -> Stage:
    channel, flow = entry.channel, entry.flow
    if entry.refused_at is not None:
        return Stage.REFUSED
    if channel is not None and channel.agent:
        return Stage.AGENT
    if channel is not None and channel.queue:
        return Stage.WAITING
    if flow is not None and flow.running:
        return Stage.MENUS
    if channel is not None and channel.fallback:
        return Stage.FALLBACK
    if flow is not None:
        return Stage.LEAVING
    return Stage.CONNECTING


def _view(entry: _Entry, now: datetime) -> LiveCall:
    flow, channel = entry.flow, entry.channel
    waiting_since = channel.waiting_since if channel is not None and channel.queue else None
    return LiveCall(
        key=entry.key,
        hotline=entry.hotline,
        stage=_stage(entry),
        call_id=flow.call_id if flow else None,
        caller_id=entry.caller_id,
        language=flow.language if flow else entry.refused_in,
        node=flow.node if flow else None,
        queue=channel.queue if channel else None,
        agent=channel.agent if channel else None,
        started_at=entry.started_at,
        seconds=round(max(0.0, (now - entry.started_at).total_seconds()), 1),
        waiting_seconds=(
            round(max(0.0, (now - waiting_since).total_seconds()), 1) if waiting_since else None
        ),
    )
