"""Live events as text for other processes: every kind survives the trip; the rest is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ivr.live.events import (
    ChannelChanged,
    ChannelEnded,
    ChannelRefused,
    FlowEnded,
    FlowMoved,
    FlowStarted,
    TelephonyChanged,
)
from ivr.live.wire import Hello, Message, NodeGone, WireError, decode, encode

AT = datetime(2026, 11, 30, 6, 1, 2, tzinfo=UTC)

EVERY_KIND: list[Message] = [
    FlowStarted("1.2", "12333", 7, "138****0000", "zh", "main:menu", AT),
    FlowMoved("1.2", "query:identity", "en"),
    FlowEnded("1.2", "served", "agent"),
    ChannelChanged("1.2", "96102", "138****0000", "Up", AT, "agents", AT, "PJSIP/7001", True),
    ChannelEnded("1.2", 16, "Normal Clearing"),
    ChannelRefused("1.3", "96102", AT, "zh"),
    TelephonyChanged(False, AT, "AMI connection lost"),
    Hello(),
    NodeGone("node2"),
]


@pytest.mark.parametrize("message", EVERY_KIND, ids=lambda m: type(m).__name__)
def test_every_message_comes_back_equal_with_the_node_it_came_from(message: Message) -> None:
    assert decode(encode(message, "node1")) == ("node1", message)


def test_chinese_text_travels_as_itself() -> None:
    text = encode(FlowMoved("1.2", "查询:身份", "zh"), "节点1")
    assert "查询" in text
    assert decode(text)[1] == FlowMoved("1.2", "查询:身份", "zh")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        '{"kind": "flow_moved"}',
        '{"kind": "unknown", "sender": "n"}',
        '{"kind": "flow_moved", "sender": "n", "uniqueid": "1"}',
    ],
)
def test_anything_else_is_refused_as_not_a_live_message(text: str) -> None:
    with pytest.raises(WireError):
        decode(text)
