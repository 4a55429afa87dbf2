"""The pure reducer on events recorded from Asterisk 22: channel state and what each event means."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ivr.ami.channels import Channel, Now
from ivr.ami.protocol import Message
from ivr.ami.reducer import CallChanged, CallEnded, CallRefused, Effect, HangupFacts, apply_event
from ivr.ami.resync import adopt
from ivr.domain.hotlines import HOTLINES
from tests.ami.conftest import transcript_events

CALLER = "1700000000.102"  # the ;2 half: runs the flow, its uniqueid is in the call record
LOCAL_ONE = "1700000000.101"  # the ;1 half, dialled by Originate
AGENT = "1795590808.2"  # agent 7001's phone, rung by the queue
WALL = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


class Replay:
    """Applies events one by one, ``step`` seconds apart, keeping every channel and effect."""

    def __init__(self) -> None:
        self.mono = 1000.0
        self.channels: dict[str, Channel] = {}
        self.effects: list[Effect] = []

    def now(self) -> Now:
        return Now(self.mono, WALL + timedelta(seconds=self.mono - 1000.0))

    def feed(self, events: list[Message], step: float = 0.5) -> None:
        for event in events:
            self.mono += step
            uniqueid = event.get("Uniqueid", "")
            after, effects = apply_event(self.channels.get(uniqueid), event, self.now(), HOTLINES)
            if after is None:
                self.channels.pop(uniqueid, None)
            else:
                self.channels[uniqueid] = after
            self.effects += effects


def until_event(events: list[Message], name: str, **fields: str) -> int:
    """Index just after the first event ``name`` with these fields."""
    for index, event in enumerate(events):
        if event.event == name and all(event.get(k) == v for k, v in fields.items()):
            return index + 1
    raise AssertionError(f"no {name} {fields} in the transcript")


def test_a_call_through_the_flow_into_the_queue() -> None:
    events = transcript_events("queue_call.ami")
    replay = Replay()
    menu = until_event(events, "AGIExecStart", Command="WAIT FOR DIGIT 5000")
    replay.feed(events[:menu])
    call = replay.channels[CALLER]
    assert call.is_call and call.linkedid == LOCAL_ONE and call.name.endswith(";2")
    assert call.hotline == "12333" and call.application == "AGI"
    assert call.ran_agi  # the dialplan started the flow: a record may follow the hang-up
    assert call.state == "Up" and call.caller_id == "13800000000" and call.queue is None
    # The ;1 half runs an application Asterisk was told to run, not the dialplan: not a call.
    assert not replay.channels[LOCAL_ONE].is_call

    rung = until_event(events, "Newexten", Uniqueid=AGENT)  # the queue rings agent 7001
    assert rung > until_event(events, "QueueCallerJoin")
    replay.feed(events[menu:rung], step=0)
    call = replay.channels[CALLER]
    assert call.application == "Queue"
    assert call.queue == "hotline-agents" and call.waiting_since == replay.now().wall
    agent = replay.channels[AGENT]
    # The agent's phone inherited HOTLINE from the caller, but it is a leg Asterisk dialled.
    assert agent.outgoing and agent.hotline == "12333" and not agent.is_call


def test_only_the_callers_changes_are_news_and_commands_are_not() -> None:
    events = transcript_events("queue_call.ami")
    replay = Replay()
    replay.feed(events)
    changed = [e.channel for e in replay.effects if isinstance(e, CallChanged)]
    assert {c.uniqueid for c in changed} == {CALLER}
    # Each one is news: the answer, the queue joined and left (not the flow's AGI commands, not
    # the dialplan's steps).
    assert [(c.state, c.queue) for c in changed] == [
        ("Ring", None),
        ("Up", None),
        ("Up", "hotline-agents"),
        ("Up", None),
    ]
    ended = [e for e in replay.effects if isinstance(e, CallEnded)]
    assert [(e.channel.uniqueid, e.cause) for e in ended] == [(CALLER, 16)]
    assert replay.channels == {}  # every channel hung up


def test_hang_up_facts_only_for_channels_that_carry_a_record() -> None:
    events = transcript_events("queue_call.ami")
    replay = Replay()
    created = until_event(events, "Newchannel", Uniqueid=CALLER)
    answered = until_event(events, "Newstate", Uniqueid=CALLER)
    replay.feed(events[:created], step=0)
    replay.feed(events[created:answered], step=2)  # ringing: 2 s per event
    replay.feed(events[answered:], step=1)
    facts = [e for e in replay.effects if isinstance(e, HangupFacts)]
    assert [f.uniqueid for f in facts] == [CALLER]  # the ;1 half and the agent are dialled legs
    (fact,) = facts
    hung_up = until_event(events, "Hangup", Uniqueid=CALLER)
    # hung up over AMI: the Hangup event says 0 (Unknown), its HangupRequest 16
    assert (fact.cause, fact.cause_text) == (16, "Normal Clearing")
    assert fact.duration_s == 2 * (answered - created) + (hung_up - answered)
    assert fact.billsec == hung_up - answered and fact.ran_agi


def test_a_channel_first_seen_mid_call_has_no_length() -> None:
    replay = Replay()
    base = [("Channel", "PJSIP/6001-1"), ("Uniqueid", "1.8"), ("Linkedid", "1.8")]
    replay.feed(
        [Message([("Event", "Newexten"), *base, ("Exten", "start"), ("Application", "AGI")])]
    )
    replay.feed([Message([("Event", "Hangup"), *base, ("Cause", "16")])])
    (fact,) = [e for e in replay.effects if isinstance(e, HangupFacts)]
    assert fact.duration_s is None and fact.billsec is None and fact.ran_agi


def test_a_callers_bye_keeps_the_cause_of_the_hangup_request() -> None:
    """Asterisk 22 ends a channel hung up by the caller during AGI with cause 0 on ``Hangup``;
    the ``HangupRequest`` just before it carries the real cause."""
    replay = Replay()
    base = [("Channel", "PJSIP/6001-00000008"), ("Uniqueid", "1.8"), ("Linkedid", "1.8")]
    replay.feed(
        [
            Message([("Event", "Newchannel"), *base, ("ChannelState", "4")]),
            Message([("Event", "Newexten"), *base, ("Exten", "12333"), ("Application", "AGI")]),
            Message([("Event", "HangupRequest"), *base, ("Cause", "16")]),
            Message([("Event", "Hangup"), *base, ("Cause", "0"), ("Cause-txt", "Unknown")]),
        ]
    )
    (ended,) = [e for e in replay.effects if isinstance(e, CallEnded)]
    (fact,) = [e for e in replay.effects if isinstance(e, HangupFacts)]
    assert (ended.cause, ended.cause_text) == (16, "Normal Clearing")
    assert (fact.cause, fact.cause_text) == (16, "Normal Clearing")


def test_fallback_and_hotline_from_variables() -> None:
    replay = Replay()
    base = [("Channel", "PJSIP/6001-9"), ("Uniqueid", "1.9"), ("Linkedid", "1.9")]
    replay.feed(
        [
            Message([("Event", "Newexten"), *base, ("Exten", "s"), ("Application", "Answer")]),
            Message([("Event", "VarSet"), *base, ("Variable", "HOTLINE"), ("Value", "96102")]),
            Message([("Event", "VarSet"), *base, ("Variable", "HOTLINE_FALLBACK"), ("Value", "1")]),
        ]
    )
    changed = [e.channel for e in replay.effects if isinstance(e, CallChanged)]
    assert [(c.hotline, c.fallback) for c in changed] == [("96102", False), ("96102", True)]


def test_a_call_past_the_cap_is_refused_once_when_the_dialplan_says_so() -> None:
    """``refused_call.ami``: Asterisk 22 refusing a call to 96102 past ``HOTLINE_MAX_CALLS``."""
    events = transcript_events("refused_call.ami")
    caller = "1700000000.202"  # the ;2 half, which runs the dialplan
    replay = Replay()
    decided = until_event(events, "VarSet", Variable="HOTLINE_REFUSED")
    replay.feed(events[: decided - 1])
    assert replay.channels[caller].is_call  # in the dialplan: a call like any other, so far
    assert not any(isinstance(e, CallRefused) for e in replay.effects)
    replay.feed(events[decided - 1 :])
    (refused,) = [e for e in replay.effects if isinstance(e, CallRefused)]
    assert refused.channel.uniqueid == caller and refused.channel.hotline == "96102"
    assert refused.at == WALL + timedelta(seconds=0.5 * decided)  # when the dialplan decided
    (ended,) = [e for e in replay.effects if isinstance(e, CallEnded)]
    assert ended.cause == 17 and replay.channels == {}


def test_a_channel_changed_is_a_new_value_and_a_misspelt_field_fails() -> None:
    channel = Channel("1.1", "1.1", "PJSIP/6001-00000001", created=5.0, started_at=WALL)
    answered = channel.changed(state="Up", answered=6.0)
    assert answered == Channel(
        "1.1", "1.1", "PJSIP/6001-00000001", created=5.0, started_at=WALL, state="Up", answered=6.0
    )
    assert channel.state == "" and channel.answered is None  # the old value is left as it was
    with pytest.raises(TypeError, match="hotlne"):
        channel.changed(hotlne="12333")


@pytest.mark.parametrize(("application", "retried"), [("AGI", True), ("Queue", False)])
def test_a_channel_found_in_the_flow_at_a_reconnection_may_still_get_its_record(
    application: str, retried: bool
) -> None:
    """Found by ``CoreShowChannels`` in the AGI (its Newexten came before the bridge saw it):
    its hang-up is still worth retrying against a record the flow writes a moment late."""
    replay = Replay()
    base = [("Channel", "PJSIP/6001-9"), ("Uniqueid", "1.9"), ("Linkedid", "1.9")]
    listed = Message(
        [("Event", "CoreShowChannel"), *base, ("Exten", "start"), ("Application", application),
         ("ChannelStateDesc", "Up"), ("Duration", "00:00:12")]
    )  # fmt: skip
    replay.channels["1.9"] = adopt(listed, replay.now(), HOTLINES)
    replay.feed([Message([("Event", "Hangup"), *base, ("Cause", "16")])])
    (fact,) = [e for e in replay.effects if isinstance(e, HangupFacts)]
    assert fact.ran_agi is retried
