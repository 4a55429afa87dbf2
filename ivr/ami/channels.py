"""What the bridge knows of one channel: a frozen value the reducer replaces at each event."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from ivr.ami.protocol import Message

__all__ = [
    "OUTGOING_LINE",
    "VARIABLES",
    "Channel",
    "Now",
    "caller_id_of",
    "hms_seconds",
    "reads_variable",
]

OUTGOING_LINE = "(Outgoing Line)"  # Newexten AppData of a leg Asterisk dialled (AppDial, AppQueue)
# The channel variables the hotline reads from VarSet events, by prefix: its own (HOTLINE,
# HOTLINE_FALLBACK, HOTLINE_REFUSED, HOTLINE_NEXT...) and Asterisk's verdict on the FastAGI
# session. Asterisk sends no other VarSet (``ivr.ami.subscription``).
VARIABLES = ("HOTLINE", "AGISTATUS")


def reads_variable(name: str) -> bool:
    """``name`` (with the leading ``_`` of an inherited variable) is one the hotline reads."""
    return name.lstrip("_").startswith(VARIABLES)


@dataclass(frozen=True)
class Now:
    """The moment an event is applied: monotonic seconds for lengths, wall time for display."""

    mono: float
    wall: datetime


@dataclass(frozen=True)
class Channel:
    uniqueid: str
    linkedid: str
    name: str  # Asterisk's channel name (PJSIP/6001-00000001, Local/12333@hotline-local-...;2)
    created: float  # monotonic
    started_at: datetime
    known_start: bool = True  # False when first seen mid-call: its length is unknown
    state: str = ""
    caller_id: str = ""
    answered: float | None = None  # monotonic
    hotline: str | None = None
    outgoing: bool = False  # a leg Asterisk dialled (Local ;1, an agent's phone)
    dialplan: bool = False  # runs dialplan applications itself (a caller, not a dialled leg)
    application: str | None = None  # the dialplan application running: AGI, Queue, Record...
    ran_agi: bool = False
    queue: str | None = None  # the agent queue the caller waits in
    waiting_since: datetime | None = None
    agent: str | None = None  # the agent who took the call
    fallback: bool = False  # the flow did not finish: apology and agents (or a message)
    # The node was full: the dialplan refused the call (busy) in this language, before the flow.
    refused_in: str | None = None
    requested_cause: int | None = None  # from HangupRequest: who hung up, and why

    @property
    def is_call(self) -> bool:
        """A caller's own channel on a hotline (not a leg Asterisk dialled for it)."""
        return self.hotline is not None and self.dialplan and not self.outgoing

    def changed(self, **changes: Any) -> Channel:
        """A copy with ``changes``, as ``dataclasses.replace`` makes it without its work for each
        field (the reducer makes one at nearly every event): a Channel has no ``__post_init__``
        and no default factory, so its fields are all there is to copy."""
        if not _FIELDS.issuperset(changes):
            raise TypeError(f"Channel has no field {sorted(set(changes) - _FIELDS)}")
        copy = object.__new__(Channel)
        copy.__dict__.update(self.__dict__, **changes)
        return copy


_FIELDS = frozenset(item.name for item in fields(Channel))


def caller_id_of(event: Message) -> str:
    number = event.get("CallerIDNum", "")
    return "" if number in ("", "<unknown>") else number


def hms_seconds(duration: str) -> float:
    """``HH:MM:SS`` (CoreShowChannel's Duration) in seconds; 0 when unreadable."""
    with contextlib.suppress(ValueError):
        hours, minutes, seconds = (int(part) for part in duration.split(":"))
        return float(hours * 3600 + minutes * 60 + seconds)
    return 0.0
