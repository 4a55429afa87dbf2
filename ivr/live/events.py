"""What producers tell the live board: the call runtime (the flow's side of a call) and the AMI
bridge (Asterisk's side of the same call). Both name a call by its channel's uniqueid.

These are plain values: a producer builds one and hands it to ``LiveBoard.publish``; it never
reads the board back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "ChannelChanged",
    "ChannelEnded",
    "ChannelRefused",
    "FlowEnded",
    "FlowMoved",
    "FlowStarted",
    "LiveEvent",
    "TelephonyChanged",
]


@dataclass(frozen=True)
class FlowStarted:
    """The call runtime opened the call record and the flow begins."""

    uniqueid: str
    hotline: str
    call_id: int | None
    caller_id: str
    language: str
    node: str
    at: datetime


@dataclass(frozen=True)
class FlowMoved:
    """The caller entered another node of the flow (``flow:node``)."""

    uniqueid: str
    node: str
    language: str


@dataclass(frozen=True)
class FlowEnded:
    """The flow is over; the caller may still be on the line (queue, fallback, message)."""

    uniqueid: str
    outcome: str | None
    then: str | None


@dataclass(frozen=True)
class ChannelChanged:
    """Asterisk's view of a caller's channel changed (the AMI bridge, after masking)."""

    uniqueid: str
    hotline: str
    caller_id: str
    state: str  # Asterisk's channel state: Ring, Up...
    started_at: datetime
    queue: str | None = None  # the agent queue the caller waits in
    waiting_since: datetime | None = None
    agent: str | None = None  # the agent who took the call
    fallback: bool = False  # the flow did not finish: apology, then agents


@dataclass(frozen=True)
class ChannelEnded:
    """The caller's channel hung up (or vanished while AMI was down: no cause)."""

    uniqueid: str
    cause: int | None
    cause_text: str | None


@dataclass(frozen=True)
class ChannelRefused:
    """The dialplan refused a caller's channel because the node was full: the caller hears that
    the lines are busy (early media), then the call is refused as busy. It never reaches the
    flow, and it is not a call in progress (the cap no longer counts it either)."""

    uniqueid: str
    hotline: str
    at: datetime
    # The busy prompt's language (HOTLINE_REFUSED): the flow never ran to tell the caller's.
    # None: not known (a replay of a refusal only counted, no call listed).
    language: str | None = None


@dataclass(frozen=True)
class TelephonyChanged:
    """Asterisk came up or went away, as far as the AMI bridge can tell (its link's state)."""

    up: bool
    at: datetime
    reason: str


LiveEvent = (
    FlowStarted
    | FlowMoved
    | FlowEnded
    | ChannelChanged
    | ChannelEnded
    | ChannelRefused
    | TelephonyChanged
)
