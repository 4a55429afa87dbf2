"""The pure part of the bridge: one AMI event applied to one channel's state.

``apply_event(channel, event, now, hotlines)`` returns the channel's new state (None once it hung
up) and what the event means beyond it: a caller's channel appeared or changed in a way a
supervisor sees (``CallChanged``), the dialplan refused a caller's channel because the node was
full (``CallRefused``), a caller's channel ended (``CallEnded``), and the facts of a hang-up the
call record wants (``HangupFacts``). No I/O, no clock, no globals: tested on events
recorded from Asterisk 22.

A channel is a *call* once its hotline is known (it entered the dialplan at 12333/96102, or
HOTLINE was set on it) and it is not an outgoing leg Asterisk dialled (the ``;1`` half of a Local
channel, an agent's phone).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from ivr.ami.channels import OUTGOING_LINE, Channel, Now, caller_id_of
from ivr.ami.protocol import Message

__all__ = [
    "EVENTS",
    "Q850_TEXTS",
    "CallChanged",
    "CallEnded",
    "CallRefused",
    "Effect",
    "HangupFacts",
    "RefusedCall",
    "apply_event",
    "new_channel",
    "visible",
]

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

_UP = "6"  # ChannelState of an answered channel


@dataclass(frozen=True)
class CallChanged:
    """A caller's channel appeared, or changed what a supervisor sees of it."""

    channel: Channel


@dataclass(frozen=True)
class CallEnded:
    channel: Channel
    cause: int | None
    cause_text: str | None


@dataclass(frozen=True)
class CallRefused:
    """The dialplan began to refuse a caller's channel (the node full): from now on it is no call
    in progress, its caller hears that the lines are busy and the call ends refused."""

    channel: Channel
    at: datetime


@dataclass(frozen=True)
class RefusedCall:
    """A call the dialplan refused because the node was full: it never reached the flow, so its
    whole record comes from here."""

    hotline: str
    caller_id: str
    linkedid: str
    language: str  # of the busy prompt the caller heard
    started_at: datetime
    ended_at: datetime


@dataclass(frozen=True)
class HangupFacts:
    """What the call record gets at a hang-up: Asterisk's cause and the lengths measured here.

    ``ran_agi``: the dialplan started the flow's AGI on the channel, so its record may be written
    a moment after the hang-up (a very quick hang-up); completing it is worth retrying.
    ``refused``: the call never reached the flow, and has no record to complete: this is the
    whole of it.
    """

    uniqueid: str
    channel_name: str
    cause: int | None
    cause_text: str | None
    duration_s: int | None
    billsec: int | None
    ran_agi: bool
    refused: RefusedCall | None = None


Effect = CallChanged | CallRefused | CallEnded | HangupFacts
Result = tuple[Channel | None, list[Effect]]


def visible(channel: Channel) -> tuple[object, ...]:
    """What a supervisor sees of a channel: a change there is news (a new AGI command is not)."""
    return (
        channel.hotline,
        channel.caller_id,
        channel.state,
        channel.queue,
        channel.agent,
        channel.fallback,
        channel.is_call,
    )


def new_channel(event: Message, now: Now, *, created: float | None = None) -> Channel:
    """A channel first seen in ``event`` (``created`` when it is known to be older)."""
    uniqueid = event.get("Uniqueid", "")
    created = now.mono if created is None else created
    return Channel(
        uniqueid=uniqueid,
        linkedid=event.get("Linkedid", uniqueid),
        name=event.get("Channel", ""),
        created=created,
        started_at=now.wall - timedelta(seconds=now.mono - created),
        # first seen mid-call (not at its Newchannel): its length is unknown
        known_start=event.event in ("Newchannel", "CoreShowChannel"),
        caller_id=caller_id_of(event),
    )


def apply_event(
    channel: Channel | None, event: Message, now: Now, hotlines: Collection[str]
) -> Result:
    """The channel after ``event`` (None: it is gone), and what that means."""
    name = event.event or ""
    if name == "Hangup":
        return None, _hang_up(channel, event, now)
    if name in ("HangupRequest", "SoftHangupRequest"):
        if channel is None:
            return None, []
        cause = _cause(event)
        return (channel.changed(requested_cause=cause) if cause else channel), []
    step = _STEPS.get(name)
    if step is None:
        return channel, []
    before = channel or new_channel(event, now)
    after = step(before, event, now, hotlines)
    effects: list[Effect] = []
    if after.is_call and (channel is None or visible(after) != visible(channel)):
        effects.append(CallChanged(after))
    if _refusing(after) and not (channel is not None and _refusing(channel)):
        effects.append(CallRefused(after, now.wall))
    return after, effects


def _refusing(channel: Channel) -> bool:
    return channel.is_call and channel.refused_in is not None


# -- one function per event: (channel, event, now, hotlines) -> channel ----------------------------


def _newchannel(channel: Channel, event: Message, now: Now, hotlines: Collection[str]) -> Channel:
    answered = channel.created if event.get("ChannelState") == _UP else channel.answered
    return channel.changed(state=event.get("ChannelStateDesc", channel.state), answered=answered)


def _newstate(channel: Channel, event: Message, now: Now, hotlines: Collection[str]) -> Channel:
    answered = channel.answered
    if event.get("ChannelState") == _UP and answered is None:
        answered = now.mono
    return channel.changed(state=event.get("ChannelStateDesc", channel.state), answered=answered)


def _newcallerid(channel: Channel, event: Message, now: Now, hotlines: Collection[str]) -> Channel:
    return channel.changed(caller_id=caller_id_of(event))


def _rename(channel: Channel, event: Message, now: Now, hotlines: Collection[str]) -> Channel:
    return channel.changed(name=event.get("Newname", channel.name))


def _newexten(channel: Channel, event: Message, now: Now, hotlines: Collection[str]) -> Channel:
    if event.get("AppData") == OUTGOING_LINE:
        return channel.changed(outgoing=True)
    exten = event.get("Exten", "")
    hotline = exten if exten in hotlines and channel.hotline is None else channel.hotline
    application = event.get("Application") or None
    # The dialplan starting the flow's AGI: from here the call may have a record to complete.
    ran_agi = channel.ran_agi or application == "AGI"
    return channel.changed(dialplan=True, hotline=hotline, application=application, ran_agi=ran_agi)


def _varset(channel: Channel, event: Message, now: Now, hotlines: Collection[str]) -> Channel:
    variable = event.get("Variable", "").lstrip("_")  # _HOTLINE: inherited by dialled legs
    value = event.get("Value", "")
    if variable == "HOTLINE" and value:
        return channel.changed(hotline=value)
    if variable == "HOTLINE_FALLBACK" and value == "1":
        return channel.changed(fallback=True)
    if variable == "HOTLINE_REFUSED" and value:
        return channel.changed(refused_in=value)
    return channel


def _queue_join(channel: Channel, event: Message, now: Now, hotlines: Collection[str]) -> Channel:
    return channel.changed(queue=event.get("Queue") or "?", waiting_since=now.wall)


def _queue_leave(channel: Channel, event: Message, now: Now, hotlines: Collection[str]) -> Channel:
    return channel.changed(queue=None, waiting_since=None)


def _agent_connect(
    channel: Channel, event: Message, now: Now, hotlines: Collection[str]
) -> Channel:
    # The event's own fields are the caller's channel; Dest* fields are the agent's.
    agent = event.get("MemberName") or event.get("Interface") or event.get("DestChannel")
    return channel.changed(agent=agent, queue=None, waiting_since=None)


_Step = Callable[[Channel, Message, Now, Collection[str]], Channel]
_STEPS: Mapping[str, _Step] = {
    "Newchannel": _newchannel,
    "Newstate": _newstate,
    "NewCallerid": _newcallerid,
    "Rename": _rename,
    "Newexten": _newexten,
    "VarSet": _varset,
    "QueueCallerJoin": _queue_join,
    "QueueCallerLeave": _queue_leave,
    "QueueCallerAbandon": _queue_leave,
    "AgentConnect": _agent_connect,
}

EVENTS = frozenset({*_STEPS, "Hangup", "HangupRequest", "SoftHangupRequest"})


def _cause(event: Message) -> int | None:
    field = event.get("Cause", "")
    return int(field) if field.isdigit() else None


def _hang_up(channel: Channel | None, event: Message, now: Now) -> list[Effect]:
    cause = _cause(event)
    cause_text = event.get("Cause-txt") or None
    if not cause and channel is not None and channel.requested_cause:
        # A caller's BYE during the AGI ends with cause 0 (Unknown) on the final event;
        # the request just before it says what happened.
        cause = channel.requested_cause
        cause_text = Q850_TEXTS.get(cause, cause_text)
    effects: list[Effect] = []
    if channel is not None and channel.is_call:
        effects.append(CallEnded(channel, cause, cause_text))
    if channel is not None and channel.outgoing:
        return effects  # the caller's own channel carries the call record
    duration = billsec = None
    if channel is not None and channel.known_start:
        duration = round(now.mono - channel.created)
        billsec = round(now.mono - channel.answered) if channel.answered is not None else 0
    effects.append(
        HangupFacts(
            uniqueid=event.get("Uniqueid", ""),
            channel_name=event.get("Channel", "?"),
            cause=cause,
            cause_text=cause_text,
            duration_s=duration,
            billsec=billsec,
            ran_agi=channel is not None and channel.ran_agi,
            refused=_refused(channel, now),
        )
    )
    return effects


def _refused(channel: Channel | None, now: Now) -> RefusedCall | None:
    if channel is None or channel.refused_in is None or not channel.is_call:
        return None
    return RefusedCall(
        hotline=channel.hotline or "",
        caller_id=channel.caller_id,
        linkedid=channel.linkedid,
        language=channel.refused_in,
        started_at=channel.started_at,
        ended_at=now.wall,
    )
