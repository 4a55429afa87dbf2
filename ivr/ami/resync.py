"""Rebuilding the bridge's channels after a (re)connection, from ``CoreShowChannels``.

Calls that ended while AMI was down are dropped (their cause is unknown); calls already up are
adopted, with their length from the listing. The listing names a channel's place in the dialplan,
not its variables: those the reducer reads from ``VarSet`` (the hotline, the refusal) are asked
with ``Getvar``. Whatever comes from AMI is masked by ``redact``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TypeVar, overload

from ivr.ami.channels import OUTGOING_LINE, Channel, Now, hms_seconds
from ivr.ami.client import AMIClient
from ivr.ami.errors import AMIError
from ivr.ami.protocol import Message
from ivr.ami.reducer import new_channel

__all__ = ["Redacted", "Resync", "adopt", "list_channels", "vanished"]

# Keys that identify channels and commands: matched against the records, so never rewritten.
IDENTITY = frozenset({"uniqueid", "linkedid", "destuniqueid", "destlinkedid", "commandid"})
_T = TypeVar("_T")


class Redacted(Message):
    """``event`` as the bridge may read it: every value but the identities masked by ``redact``.

    A value is masked when it is read: the reducer reads a few of an event's twenty headers, and
    masking them all first was the largest part of the bridge's work. Every way to a value (a
    header, ``get``, ``getall``, ``pairs``, the mapping's items and repr) goes through the mask.
    """

    __slots__ = ("_event", "_redact")

    def __init__(self, event: Message, redact: Callable[[str], str]) -> None:
        self._event = event
        self._redact = redact

    def _masked(self, key: str, value: str) -> str:
        return value if key.lower() in IDENTITY else self._redact(value)

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        return tuple((key, self._masked(key, value)) for key, value in self._event.pairs)

    def __getitem__(self, key: str) -> str:
        return self._masked(key, self._event[key])

    @overload
    def get(self, key: str, /) -> str | None: ...
    @overload
    def get(self, key: str, /, default: str | _T) -> str | _T: ...
    def get(self, key: str, /, default: object = None) -> object:
        value = self._event.get(key)
        return default if value is None else self._masked(key, value)

    def __iter__(self) -> Iterator[str]:
        return iter(self._event)

    def __len__(self) -> int:
        return len(self._event)

    def __contains__(self, key: object) -> bool:
        return key in self._event

    def getall(self, key: str) -> list[str]:
        return [self._masked(key, value) for value in self._event.getall(key)]


@dataclass(frozen=True)
class Resync:
    gone: list[Channel]  # known before the listing was asked for, and not listed
    adopted: list[Channel]  # listed, not known before
    # Listed callers the dialplan is refusing (HOTLINE_REFUSED set), by uniqueid: the busy
    # prompt's language. Known ones too: their VarSet may have come while AMI was down.
    refused: dict[str, str] = field(default_factory=dict)


def vanished(
    channels: Mapping[str, Channel], listed: Collection[str], asked: float
) -> list[Channel]:
    """Channels known before the listing was asked for and not in it: they ended meanwhile."""
    return [c for c in channels.values() if c.uniqueid not in listed and c.created <= asked]


def adopt(item: Message, now: Now, hotlines: Collection[str]) -> Channel:
    """A channel that was up before the bridge saw it start (a ``CoreShowChannel`` item)."""
    duration = item.get("Duration", "")
    name = item.get("Channel", "")
    outgoing = item.get("ApplicationData") == OUTGOING_LINE or (
        name.startswith("Local/") and name.endswith(";1")
    )
    channel = new_channel(item, now, created=now.mono - hms_seconds(duration))
    state = item.get("ChannelStateDesc", "")
    exten = item.get("Exten", "")
    application = item.get("Application") or None
    waiting_in = item.get("ApplicationData", "").split(",")[0] if application == "Queue" else ""
    return channel.changed(
        known_start=bool(duration),
        state=state,
        application=application,
        ran_agi=application == "AGI",  # found in the flow: its record may follow the hang-up
        queue=waiting_in or None,  # since when is not listed
        outgoing=outgoing,
        dialplan=not outgoing,
        answered=channel.created if state == "Up" else None,  # billable from the start, at most
        hotline=exten if exten in hotlines else None,
    )


async def list_channels(
    client: AMIClient,
    known: Mapping[str, Channel],
    *,
    now: Callable[[], Now],
    redact: Callable[[str], str],
    hotlines: Collection[str],
) -> Resync | None:
    """What changed while the bridge could not see; None when Asterisk would not list."""
    asked = now().mono
    try:
        listing = await client.action_list("CoreShowChannels")
    except AMIError:
        return None
    moment = now()
    listed = {raw.get("Uniqueid", "") for raw in listing.events}
    adopted = []
    refused = {}
    for raw in listing.events:
        if raw.event != "CoreShowChannel":
            continue
        uniqueid = raw.get("Uniqueid", "")
        name = raw.get("Channel", "")  # Asterisk's own name for it: the masked copy may differ
        channel = known.get(uniqueid)
        if channel is None:
            channel = adopt(Redacted(raw, redact), moment, hotlines)
            if channel.hotline is None and channel.dialplan:
                hotline = await _variable(client, name, "HOTLINE", redact)
                channel = channel.changed(hotline=hotline)
            adopted.append(channel)
        if channel.is_call and channel.refused_in is None:
            # The variable says the call is refused, as the reducer has it from the VarSet; the
            # extension would not: a call handed back to the proxy passes through ``busy`` too.
            language = await _variable(client, name, "HOTLINE_REFUSED", redact)
            if language is not None:
                refused[uniqueid] = language
    return Resync(vanished(known, listed, asked), adopted, refused)


async def _variable(
    client: AMIClient, channel: str, variable: str, redact: Callable[[str], str]
) -> str | None:
    """The channel's ``variable``; None when it is not set or cannot be read."""
    try:
        reply = await client.action("Getvar", Channel=channel, Variable=variable)
    except AMIError:
        return None
    value = redact(reply.get("Value", ""))
    return value if value and value != "(null)" else None
