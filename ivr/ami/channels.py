"""What the bridge knows of one channel, and the frozen view the supervisor console reads."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

from ivr.ami.protocol import Message

__all__ = ["OUTGOING_LINE", "LiveChannel", "Tracked", "caller_id_of", "hms_seconds"]

OUTGOING_LINE = "(Outgoing Line)"  # Newexten AppData of a leg Asterisk dialled (AppDial, AppQueue)


@dataclass(frozen=True)
class LiveChannel:
    """One channel as the supervisor console shows it."""

    uniqueid: str
    linkedid: str
    channel: str
    hotline: str | None
    state: str
    caller_id: str
    started_at: datetime
    seconds: float  # time in call so far
    application: str | None  # the dialplan application running: AGI, Queue, Record...
    command: str | None  # the AGI command running now (the flow's prompt or input)
    node: str | None  # the flow's node, when the flow's live calls are wired in
    queue: str | None  # the agent queue the caller waits in
    waiting_seconds: float | None  # how long the caller has waited for an agent
    agent: str | None  # the agent who took the call
    fallback: bool  # the flow did not finish: apology and agents (or a message)
    outgoing: bool  # a leg Asterisk dialled (Local ;1, an agent's phone)


@dataclass
class Tracked:
    """A channel the bridge follows; times are monotonic seconds."""

    uniqueid: str
    linkedid: str
    channel: str
    created: float
    started_at: datetime
    known_start: bool = True  # False when first seen mid-call: its length is unknown
    state: str = ""
    caller_id: str = ""
    answered: float | None = None
    hotline: str | None = None
    outgoing: bool = False
    dialplan: bool = False  # runs dialplan applications itself (a caller, not a dialled leg)
    application: str | None = None
    command: str | None = None
    command_id: str | None = None
    ran_agi: bool = False
    queue: str | None = None
    waiting_since: float | None = None
    agent: str | None = None
    fallback: bool = False
    requested_cause: int | None = None  # from HangupRequest: who hung up, and why

    @property
    def is_call(self) -> bool:
        return self.hotline is not None and self.dialplan and not self.outgoing

    def view(self, now: float, node: str | None = None) -> LiveChannel:
        waiting = round(now - self.waiting_since, 1) if self.waiting_since is not None else None
        return LiveChannel(
            uniqueid=self.uniqueid,
            linkedid=self.linkedid,
            channel=self.channel,
            hotline=self.hotline,
            state=self.state,
            caller_id=self.caller_id,
            started_at=self.started_at,
            seconds=round(now - self.created, 1),
            application=self.application,
            command=self.command,
            node=node,
            queue=self.queue,
            waiting_seconds=waiting,
            agent=self.agent,
            fallback=self.fallback,
            outgoing=self.outgoing,
        )


def caller_id_of(event: Message) -> str:
    number = event.get("CallerIDNum", "")
    return "" if number in ("", "<unknown>") else number


def hms_seconds(duration: str) -> float:
    """``HH:MM:SS`` (CoreShowChannel's Duration) in seconds; 0 when unreadable."""
    with contextlib.suppress(ValueError):
        hours, minutes, seconds = (int(part) for part in duration.split(":"))
        return float(hours * 3600 + minutes * 60 + seconds)
    return 0.0
