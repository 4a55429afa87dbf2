"""The live board: the flow's side and Asterisk's side of a call merged into one line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ivr.live.board import LiveBoard, Stage
from ivr.live.events import (
    ChannelChanged,
    ChannelEnded,
    ChannelRefused,
    FlowEnded,
    FlowMoved,
    FlowStarted,
    TelephonyChanged,
)

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
HOTLINES = ("12333", "96102")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def started(uniqueid: str = "1.2", at: datetime = T0, hotline: str = "12333") -> FlowStarted:
    return FlowStarted(uniqueid, hotline, 7, "13800000000", "zh", "", at)


def channel(uniqueid: str = "1.2", **fields: object) -> ChannelChanged:
    base: dict[str, object] = {
        "uniqueid": uniqueid,
        "hotline": "12333",
        "caller_id": "13800000000",
        "state": "Up",
        "started_at": T0 - timedelta(seconds=2),
    }
    base.update(fields)
    return ChannelChanged(**base)  # type: ignore[arg-type]


def test_a_flow_call_is_listed_at_its_node_and_leaves_when_the_flow_ends() -> None:
    clock = Clock()
    board = LiveBoard(clock=clock)
    board.publish(started())
    board.publish(FlowMoved("1.2", "12333:main", "zh"))
    clock.now = T0 + timedelta(seconds=30)
    (call,) = board.current().calls
    assert (call.key, call.hotline, call.call_id, call.node) == ("1.2", "12333", 7, "12333:main")
    assert call.stage is Stage.MENUS and call.seconds == 30.0
    board.publish(FlowMoved("1.2", "identity:enter_id", "en"))
    (call,) = board.current().calls
    assert call.node == "identity:enter_id" and call.language == "en"
    board.publish(FlowEnded("1.2", "served", None))
    assert board.current().calls == ()  # no channel known: nothing keeps it on the board


def test_asterisks_side_joins_the_flow_and_keeps_a_waiting_caller_listed() -> None:
    clock = Clock()
    board = LiveBoard(clock=clock)
    board.publish(channel(state="Ring"))  # the dialplan answers: no flow yet
    (call,) = board.current().calls
    assert call.stage is Stage.CONNECTING and call.node is None and call.seconds == 2.0
    board.publish(started())
    board.publish(FlowMoved("1.2", "12333:main", "zh"))
    (call,) = board.current().calls
    assert call.stage is Stage.MENUS and call.started_at == T0 - timedelta(seconds=2)
    board.publish(FlowEnded("1.2", "agent", "agent"))
    (call,) = board.current().calls
    assert call.stage is Stage.LEAVING  # the flow is over, the caller still on the line
    board.publish(channel(queue="hotline-agents", waiting_since=T0))
    clock.now = T0 + timedelta(seconds=12)
    (call,) = board.current().calls
    assert call.stage is Stage.WAITING and call.queue == "hotline-agents"
    assert call.waiting_seconds == 12.0 and call.node == "12333:main"  # the last node kept
    board.publish(channel(agent="PJSIP/7001"))
    (call,) = board.current().calls
    assert call.stage is Stage.AGENT and call.agent == "PJSIP/7001"
    board.publish(ChannelEnded("1.2", 16, "Normal Clearing"))
    assert board.current().calls == ()


def test_fallback_and_the_order_of_calls() -> None:
    board = LiveBoard(clock=Clock())
    board.publish(started("2.1", T0 + timedelta(seconds=5), "96102"))
    board.publish(channel("1.1", fallback=True))
    calls = board.current().calls
    assert [c.key for c in calls] == ["1.1", "2.1"]  # oldest first
    assert calls[0].stage is Stage.FALLBACK and calls[1].stage is Stage.MENUS
    assert board.current().counts(("12333", "96102")) == {"12333": 1, "96102": 1}


def test_a_refused_call_is_listed_as_refused_not_in_progress_and_counted_for_15_minutes() -> None:
    clock = Clock()
    board = LiveBoard(clock=clock)
    board.publish(started("1.1"))  # a call the node took
    board.publish(channel("2.2", hotline="96102", state="Ring"))  # the next one: the node is full
    assert board.current().counts(HOTLINES) == {"12333": 1, "96102": 1}
    board.publish(ChannelRefused("2.2", "96102", T0, "es"))
    snap = board.current()
    assert [c.stage for c in snap.calls] == [Stage.REFUSED, Stage.MENUS]  # hearing "lines busy"
    assert [c.language for c in snap.calls] == ["es", "zh"]  # the busy prompt's, the flow's
    assert snap.counts(HOTLINES) == {"12333": 1, "96102": 0}
    assert [c.key for c in snap.in_progress] == ["1.1"]
    assert snap.refused.counts(HOTLINES) == {"12333": 0, "96102": 1}
    board.publish(ChannelRefused("2.2", "96102", T0))  # told twice (a replay): counted once
    board.publish(ChannelEnded("2.2", 17, "User busy"))
    clock.now = T0 + timedelta(minutes=14, seconds=59)
    snap = board.current()
    assert [c.key for c in snap.calls] == ["1.1"] and snap.refused.total == 1
    assert snap.refused.minutes == 15
    clock.now = T0 + timedelta(minutes=15, seconds=1)
    assert board.current().refused.total == 0


def test_refusals_out_of_order_and_from_long_ago() -> None:
    """Several nodes' events reach a console's board in any order; a replay may tell old ones."""
    clock = Clock()
    board = LiveBoard(clock=clock)
    clock.now = T0 + timedelta(minutes=20)
    for key, minutes in (("a", 19), ("b", 10), ("c", 2), ("d", 12)):
        board.publish(ChannelRefused(key, "12333", T0 + timedelta(minutes=minutes)))
    assert board.current().refused.total == 3  # "c" (18 minutes ago) is too old
    clock.now = T0 + timedelta(minutes=26)
    assert board.current().refused.total == 2  # "b" went out of the window, "d" and "a" not
    board.publish(ChannelRefused("e", "96102", T0 + timedelta(minutes=25)))
    assert board.current().refused.by_hotline == {"12333": 2, "96102": 1}
    clock.now = T0 + timedelta(minutes=39)
    assert board.current().refused.by_hotline == {"96102": 1}


def test_a_hung_up_call_ignores_late_moves_of_its_flow() -> None:
    board = LiveBoard(clock=Clock())
    board.publish(channel())
    board.publish(started())
    board.publish(ChannelEnded("1.2", 16, "Normal Clearing"))  # AMI is quicker than the flow
    board.publish(FlowMoved("1.2", "12333:query_menu", "zh"))
    board.publish(FlowEnded("1.2", "abandoned", None))
    assert board.current().calls == ()


async def test_readers_are_told_of_each_change_with_the_hang_up_cause() -> None:
    board = LiveBoard(clock=Clock())
    with board.subscribe() as changes:
        board.publish(channel())
        board.publish(started())
        board.publish(FlowMoved("1.2", "12333:main", "zh"))
        board.publish(ChannelEnded("1.2", 16, "Normal Clearing"))
        seen = changes.drain()
    assert [c.kind for c in seen] == ["started", "updated", "updated", "ended"]
    assert {c.key for c in seen} == {"1.2"}
    assert (seen[-1].cause, seen[-1].cause_text) == (16, "Normal Clearing")
    assert (await board.snapshot()).calls == ()


def test_replay_rebuilds_the_same_calls_and_telephony_on_another_board() -> None:
    clock = Clock()
    board = LiveBoard(clock=clock)
    board.publish(TelephonyChanged(False, T0, "AMI connection lost"))
    board.publish(started("1.1"))
    board.publish(FlowMoved("1.1", "query:identity", "en"))
    board.publish(channel("2.2", hotline="96102", queue="agents", waiting_since=T0))
    board.publish(started("2.2", hotline="96102"))
    board.publish(FlowEnded("2.2", "transferred", "agent"))
    board.publish(channel("3.3", state="Ring", started_at=T0 + timedelta(seconds=10)))
    board.publish(ChannelRefused("3.3", "12333", T0 + timedelta(seconds=10), "en"))  # hearing it
    board.publish(ChannelRefused("4.4", "96102", T0 - timedelta(minutes=3)))  # refused, gone
    clock.now = T0 + timedelta(seconds=30)

    copy = LiveBoard(clock=clock)
    for event in board.replay():
        copy.publish(event)

    assert copy.current() == board.current()
    assert [c.stage for c in copy.current().calls] == [Stage.WAITING, Stage.MENUS, Stage.REFUSED]
    assert copy.current().calls[-1].language == "en"  # the refused caller's busy prompt
    assert copy.current().refused.by_hotline == {"12333": 1, "96102": 1}
    telephony = copy.current().telephony
    assert telephony is not None and not telephony.up
