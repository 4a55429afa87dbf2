"""AMI framing and parsing on transcripts recorded from Asterisk 22."""

from __future__ import annotations

import random

import pytest

from ivr.ami.protocol import (
    Framer,
    Message,
    ProtocolError,
    format_action,
    leading_event,
    parse_message,
)
from tests.ami.conftest import transcript_bytes, transcript_messages


def test_transcript_splits_into_messages_with_fixed_action_ids() -> None:
    messages = transcript_messages("queue_call.ami")
    replies = {m["ActionID"]: m for m in messages if m.response is not None}
    assert set(replies) == {
        "login-1", "ping-1", "originate-1", "dtmf-1", "list-1", "hangup-1", "logoff-1",
    }  # fmt: skip
    assert replies["login-1"]["Message"] == "Authentication accepted"
    assert replies["ping-1"]["Ping"] == "Pong"
    assert replies["list-1"]["EventList"] == "start"
    assert replies["logoff-1"].response == "Goodbye"
    events = [m.event for m in messages if m.event]
    assert events.count("Hangup") == 3
    assert events[-1] == "Hangup"
    # The list's events carry its ActionID; the OriginateResponse event carries the Originate's.
    listed = [m for m in messages if m.event == "CoreShowChannel"]
    assert len(listed) == 3 and all(m.action_id == "list-1" for m in listed)
    originate = next(m for m in messages if m.event == "OriginateResponse")
    assert originate.action_id == "originate-1" and originate["Response"] == "Success"


def test_any_chunking_gives_the_same_messages() -> None:
    data = transcript_bytes("queue_call.ami").partition(b"\r\n")[2]
    whole = Framer().feed(data)
    rng = random.Random(5)
    for _ in range(20):
        framer = Framer()
        pieces: list[str] = []
        at = 0
        while at < len(data):
            size = rng.choice([1, 2, 3, 7, 64, 1000, 4096])
            pieces += framer.feed(data[at : at + size])
            at += size
        assert pieces == whole
        assert framer.pending == b""


def test_partial_message_is_kept_for_the_next_feed() -> None:
    framer = Framer()
    assert framer.feed(b"Response: Success\r\nActionID: a1\r\n") == []
    assert framer.feed(b"\r") == []  # CR of the blank line, LF still to come
    assert framer.feed(b"\nEvent: Foo\r\n") == ["Response: Success\nActionID: a1"]
    assert framer.pending == b"Event: Foo\n"


def test_refusal_transcript() -> None:
    (reply,) = transcript_messages("login_refused.ami")
    assert reply.response == "Error"
    assert reply.action_id == "login-1"
    assert reply["Message"] == "Authentication failed"


def test_repeated_headers_and_case_insensitive_lookup() -> None:
    message = parse_message(
        "Event: Status\nChanVariable: A=1\nChanVariable: B=2\nActionID: x\nAccountCode: \n"
    )
    assert message["chanvariable"] == "A=1"
    assert message.getall("ChanVariable") == ["A=1", "B=2"]
    assert message["actionid"] == "x" and message.action_id == "x"
    assert message["AccountCode"] == ""
    assert list(message) == ["Event", "ChanVariable", "ActionID", "AccountCode"]
    assert "Missing" not in message and message.get("Missing") is None


def test_values_keep_colons_and_old_output_lines_are_kept() -> None:
    message = parse_message("Response: Follows\nPrivilege: Command\nsome output: with colon\n--END")
    assert message["Privilege"] == "Command"
    assert message.getall("Output") == ["some output: with colon", "--END"]
    assert list(message) == ["Response", "Privilege", "Output"]  # named as Asterisk names it
    assert parse_message("Timestamp: 12:30:01")["Timestamp"] == "12:30:01"


def test_format_action_repeats_list_values_and_ends_with_blank_line() -> None:
    data = format_action(
        "Originate", "a7", {"Channel": "Local/12333@hotline-local", "Variable": ["A=1", "B=2"]}
    )
    assert data == (
        b"Action: Originate\r\nActionID: a7\r\nChannel: Local/12333@hotline-local\r\n"
        b"Variable: A=1\r\nVariable: B=2\r\n\r\n"
    )
    assert Framer().feed(data) == [data.decode().replace("\r\n", "\n").strip()]


@pytest.mark.parametrize(
    "fields",
    [
        {"Channel": "x\r\nAction: Command"},  # a value injecting a second action
        {"Variable": ["A=1", "B=2\nC"]},
        {"Bad Key": "1"},
        {"ActionID": "mine"},
        {"action": "Hangup"},
        {"ACTION": "Hangup"},
        {"Variable": "A=1\rB=2"},  # a bare CR ends a line for some readers
        {"": "1"},
    ],
)
def test_format_action_refuses_what_would_change_the_message(fields: dict[str, str]) -> None:
    with pytest.raises(ProtocolError):
        format_action("Originate", "a1", fields)


def test_the_refusals_say_what_is_wrong() -> None:
    with pytest.raises(ProtocolError) as refused:
        format_action("Originate", "a1", {"Variable": "A=1\nB"})
    assert str(refused.value) == "AMI field 'Variable' holds a line break"
    with pytest.raises(ProtocolError) as refused:
        format_action("Originate", "a1", {"Bad Key": "1"})
    assert str(refused.value) == "bad AMI field name 'Bad Key'"
    with pytest.raises(ProtocolError) as refused:
        format_action("Originate", "a1", {"Action": "Hangup"})
    assert str(refused.value) == "Action is set by the client"
    with pytest.raises(ProtocolError) as refused:
        Framer(max_message=10).feed(b"A: 12345678")
    assert str(refused.value) == "AMI message longer than 10 bytes"


def test_any_field_name_without_separators_is_written() -> None:
    data = format_action("UserEvent", "u1", {"UserEvent": "Xfer", "XRef": "1"})
    assert b"\r\nXRef: 1\r\n" in data


def test_a_message_may_reach_the_size_limit() -> None:
    framer = Framer(max_message=10)
    assert framer.feed(b"A: 1234567") == []  # 10 bytes still to come to an end
    assert framer.feed(b"\r\n\r\n") == ["A: 1234567"]


def test_bytes_that_are_not_utf8_are_replaced_not_fatal() -> None:
    assert Framer().feed(b"Event: caf\xe9\r\n\r\n") == ["Event: caf\ufffd"]


def test_a_blank_line_inside_a_message_text_is_skipped() -> None:
    message = parse_message("Event: Hangup\n   \nCause: 16")
    assert message["Cause"] == "16"


def test_an_endless_message_is_refused() -> None:
    framer = Framer(max_message=100)
    with pytest.raises(ProtocolError):
        framer.feed(b"Event: X\r\n" + b"A: " + b"x" * 200)


def test_message_is_a_read_only_mapping() -> None:
    message = Message([("Event", "Hangup"), ("Cause", "16")])
    assert dict(message) == {"Event": "Hangup", "Cause": "16"}
    assert len(message) == 2 and message.event == "Hangup" and message.response is None
    assert "cause" in message and "CAUSE" in message and 16 not in message
    assert repr(message) == "Message({'Event': 'Hangup', 'Cause': '16'})"


@pytest.mark.parametrize(
    ("text", "event"),
    [
        ("Event: Newchannel\nChannel: PJSIP/1001-00000001\n", "Newchannel"),
        ("Event: Hangup", "Hangup"),  # the first line is the whole text
        ("Event:VarSet\nVariable: x\n", "VarSet"),  # no space after the colon
        ("Event:  Cdr \nEvent: Other\n", "Cdr"),
    ],
)
def test_the_leading_event_is_read_from_the_first_line(text: str, event: str) -> None:
    assert leading_event(text) == event


@pytest.mark.parametrize(
    "text", ["Response: Success\nEvent: Hangup\n", "ActionID: 1\nEvent: Hangup", "", "Even"]
)
def test_a_message_not_starting_with_an_event_has_no_leading_event(text: str) -> None:
    assert leading_event(text) is None
