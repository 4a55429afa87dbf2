"""AMIBridge on events recorded from Asterisk 22: what it pushes to the live board, and call records
completed in a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Any

import pytest

from ivr.ami.bridge import AMIBridge, start_bridge
from ivr.ami.client import AMIClient, Backoff
from ivr.ami.hangups import HangupRecorder
from ivr.ami.protocol import Message
from ivr.config import Settings
from ivr.domain.clock import local
from ivr.domain.outcomes import Outcome
from ivr.live.board import LiveBoard, Stage
from ivr.live.events import FlowMoved, FlowStarted
from ivr.store.database import open_database, upgrade_database
from ivr.store.records import Records
from ivr.store.stats import Statistics
from tests.ami.conftest import (
    transcript_bytes,
    transcript_events,
    transcript_messages,
    until,
)
from tests.ami.fakeami import FakeAMI, Handler, Reply

CALLER = "1700000000.102"  # the ;2 half: runs the flow, its uniqueid is in the call record
LOCAL_ONE = "1700000000.101"  # the ;1 half, dialled by Originate
AGENT = "1795590808.2"  # agent 7001's phone, rung by the queue
# refused_resync.ami: a call into 96102 refused past the cap, listed while it hears the busy prompt
REFUSED_RESYNC = "refused_resync.ami"
REFUSED = "1700000000.302"  # its ;2 half, which runs the dialplan


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class NoRecords:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def complete_hangup(self, uniqueid: str, **facts: Any) -> bool:
        self.calls.append((uniqueid, facts))
        return False


def make_bridge(
    store: Any,
    clock: Clock | None = None,
    *,
    board: LiveBoard | None = None,
    retry_delays: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0),
) -> AMIBridge:
    client = AMIClient("127.0.0.1", 1, "hotline", "x")  # never connected: events are fed
    return AMIBridge(
        client,
        publish=(board or LiveBoard()).publish,
        hangups=HangupRecorder(store, retry_delays=retry_delays),
        clock=clock or Clock(),
    )


def feed(bridge: AMIBridge, events: Iterable[Message], clock: Clock, step: float = 0.5) -> None:
    for event in events:
        clock.now += step
        bridge.feed(event)


def until_event(events: list[Message], name: str, **fields: str) -> int:
    """Index just after the first event ``name`` with these fields."""
    for index, event in enumerate(events):
        if event.event == name and all(event.get(k) == v for k, v in fields.items()):
            return index + 1
    raise AssertionError(f"no {name} {fields} in the transcript")


@pytest.fixture
async def records(database_url: str) -> AsyncIterator[Records]:
    await upgrade_database(database_url)
    database = await open_database(database_url)
    try:
        yield Records(database)
    finally:
        await database.close()


async def open_call(records: Records, uniqueid: str = CALLER) -> int:
    return (
        await records.start_call(
            hotline="12333",
            caller_id="13800000000",
            uniqueid=uniqueid,
            channel="Local/12333@hotline-local-00000000;2",
            language="zh",
            started_at=datetime.now(UTC),
        )
    ).call_id


async def test_the_board_follows_a_call_through_the_flow_into_the_queue() -> None:
    events = transcript_events("queue_call.ami")
    clock = Clock()
    board = LiveBoard()
    bridge = make_bridge(NoRecords(), clock, board=board)
    menu = until_event(events, "AGIExecStart", Command="WAIT FOR DIGIT 5000")
    feed(bridge, events[:menu], clock)
    # The flow's own side of the same call, as the call runner pushes it.
    board.publish(FlowStarted(CALLER, "12333", 5, "13800000000", "zh", "", datetime.now(UTC)))
    board.publish(FlowMoved(CALLER, "12333:main", "zh"))
    (call,) = board.current().calls
    assert (call.key, call.hotline, call.call_id) == (CALLER, "12333", 5)
    assert call.stage is Stage.MENUS and call.node == "12333:main"
    assert call.caller_id == "13800000000"

    rung = until_event(events, "Newexten", Uniqueid=AGENT)  # the queue rings agent 7001
    feed(bridge, events[menu:rung], clock, step=0)
    (call,) = board.current().calls
    assert call.stage is Stage.WAITING and call.queue == "hotline-agents"
    # The ;1 half and the agent's phone are legs Asterisk dialled: followed, never listed.
    assert set(bridge.channels) == {CALLER, LOCAL_ONE, AGENT}
    feed(bridge, events[rung:], clock)
    assert board.current().calls == () and bridge.channels == {}
    await bridge.settle()


async def test_only_the_callers_hang_up_is_recorded() -> None:
    events = transcript_events("queue_call.ami")
    store = NoRecords()
    clock = Clock()
    bridge = make_bridge(store, clock, retry_delays=())
    feed(bridge, events, clock)
    await bridge.settle()
    assert [uniqueid for uniqueid, _ in store.calls] == [CALLER]


async def test_hang_up_completes_the_call_record(records: Records) -> None:
    call_id = await open_call(records)
    other = await open_call(records, "1700000000.999")
    events = transcript_events("queue_call.ami")
    clock = Clock()
    bridge = make_bridge(records, clock)
    created = until_event(events, "Newchannel", Uniqueid=CALLER)
    answered = until_event(events, "Newstate", Uniqueid=CALLER)
    feed(bridge, events[:created], clock, step=0)
    feed(bridge, events[created:answered], clock, step=2)  # ringing: 2 s per event
    feed(bridge, events[answered:], clock, step=1)
    await bridge.settle()
    assert bridge.hangups.completed == 1 and bridge.hangups.unmatched == 0
    row = await records.call_detail(call_id)
    assert row is not None
    # hung up over AMI: the Hangup event says 0 (Unknown), its HangupRequest 16
    assert row.hangup_cause == 16 and row.hangup_cause_text == "Normal Clearing"
    hung_up = until_event(events, "Hangup", Uniqueid=CALLER)
    assert row.duration_s == 2 * (answered - created) + (hung_up - answered)
    assert row.billsec == hung_up - answered
    untouched = await records.call_detail(other)
    assert untouched is not None and untouched.hangup_cause is None


async def test_a_hang_up_before_the_record_exists_is_retried(records: Records) -> None:
    clock = Clock()
    bridge = make_bridge(records, clock, retry_delays=(0.05, 0.05, 0.2, 0.5))
    base = [("Channel", "PJSIP/6001-00000007"), ("Uniqueid", "1.7"), ("Linkedid", "1.7")]
    bridge.feed(Message([("Event", "Newchannel"), *base, ("ChannelState", "4")]))
    bridge.feed(Message([("Event", "Newexten"), *base, ("Exten", "96102"), ("Application", "AGI")]))
    clock.now += 3
    bridge.feed(
        Message([("Event", "Hangup"), *base, ("Cause", "16"), ("Cause-txt", "Normal Clearing")])
    )
    await asyncio.sleep(0.08)  # the first attempts find nothing: the flow is still opening it
    call_id = await open_call(records, "1.7")
    await bridge.settle()
    row = await records.call_detail(call_id)
    assert row is not None and row.hangup_cause == 16 and row.hangup_cause_text == "Normal Clearing"
    assert row.duration_s == 3 and row.billsec == 0  # never answered
    assert bridge.hangups.completed == 1


async def test_a_channel_without_a_record_is_given_up(caplog: pytest.LogCaptureFixture) -> None:
    store = NoRecords()
    bridge = make_bridge(store, retry_delays=(0.01, 0.01))
    base = [("Channel", "PJSIP/6001-1"), ("Uniqueid", "1.8"), ("Linkedid", "1.8")]
    bridge.feed(Message([("Event", "Newexten"), *base, ("Exten", "start"), ("Application", "AGI")]))
    bridge.feed(Message([("Event", "Hangup"), *base, ("Cause", "16")]))
    await bridge.settle()
    assert len(store.calls) == 3 and bridge.hangups.unmatched == 1
    assert store.calls[0][1]["duration_s"] is None  # first seen mid-call: length unknown
    assert "no call record" in caplog.text


async def test_a_database_failure_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        async def complete_hangup(self, uniqueid: str, **facts: Any) -> bool:
            raise OSError("database is down")

    bridge = make_bridge(Broken())
    bridge.feed(Message([("Event", "Hangup"), ("Uniqueid", "1.9"), ("Cause", "16")]))
    await bridge.settle()
    assert "could not record the hang-up of 1.9" in caplog.text


async def test_board_readers_see_the_call_start_change_and_end_with_its_cause() -> None:
    events = transcript_events("queue_call.ami")
    clock = Clock()
    board = LiveBoard()
    bridge = make_bridge(NoRecords(), clock, board=board, retry_delays=())
    with board.subscribe() as changes:
        feed(bridge, events, clock)
        seen = changes.drain()
    await bridge.settle()
    assert {change.key for change in seen} == {CALLER}
    kinds = [change.kind for change in seen]
    assert kinds[0] == "started" and kinds[-1] == "ended" and kinds.count("ended") == 1
    assert (seen[-1].cause, seen[-1].cause_text) == (16, "Normal Clearing")


def test_id_numbers_from_ami_are_masked() -> None:
    bridge = make_bridge(NoRecords())
    base = [("Channel", "PJSIP/6001-1"), ("Uniqueid", "1.3"), ("Linkedid", "1.3")]
    bridge.feed(Message([("Event", "Newchannel"), *base, ("CallerIDNum", "13800000000")]))
    bridge.feed(Message([("Event", "Newexten"), *base, ("Exten", "12333"), ("Application", "AGI")]))
    bridge.feed(
        Message(
            [
                ("Event", "AGIExecStart"),
                *base,
                ("CommandId", "5"),
                ("Command", 'SET VARIABLE "NOTE" "id 11010519491231002X"'),
            ]
        )
    )
    call = bridge.channels["1.3"]
    assert "11010519491231002X" not in repr(call)  # the AGI command's text is not kept at all
    assert call.caller_id == "13800000000"  # a phone number is not an ID number


# --- through a real AMI client ----------------------------------------------------------------


def recorded_channels(transcript: str = "queue_call.ami") -> list[list[tuple[str, str]]]:
    """The CoreShowChannel items recorded, without Event and ActionID."""
    return [
        [(k, v) for k, v in m.pairs if k not in ("Event", "ActionID")]
        for m in transcript_messages(transcript)
        if m.event == "CoreShowChannel"
    ]


def answers_getvar(values: dict[str, dict[str, str]]) -> Handler:
    """A Getvar handler: ``values[channel][variable]``, empty when not set (as Asterisk 22)."""

    def reply(message: Message) -> Reply:
        value = values.get(message["Channel"], {}).get(message["Variable"], "")
        return [[("Response", "Success"), ("ActionID", message["ActionID"]),
                 ("Variable", message["Variable"]), ("Value", value)]]  # fmt: skip

    return reply


def recorded_getvar(transcript: str, uniqueid: str) -> Handler:
    """Getvar answered with the transcript's replies (its Getvar actions asked this channel)."""
    messages = transcript_messages(transcript)
    (channel,) = {m["Channel"] for m in messages if m.get("Uniqueid") == uniqueid}
    replies = [m for m in messages if m.get("Response") and "Variable" in m]
    return answers_getvar({channel: {m["Variable"]: m.get("Value", "") for m in replies}})


def settings_for(server: FakeAMI, records_url: str = "") -> Settings:
    return Settings(
        ami_host="127.0.0.1", ami_port=server.port, ami_user=server.username,
        ami_secret=server.secret, db_url=records_url,
    )  # fmt: skip


async def test_start_bridge_follows_a_recorded_call_to_its_record(
    fake_ami: FakeAMI, records: Records
) -> None:
    call_id = await open_call(records)
    board = LiveBoard()
    bridge = await start_bridge(settings_for(fake_ami), records, board.publish)
    try:
        assert bridge.client.connected
        await fake_ami.wait_for_action("CoreShowChannels")  # the state is rebuilt at login
        await asyncio.sleep(0.05)
        data = transcript_bytes("queue_call.ami").partition(b"\r\n")[2]
        await fake_ami.push_raw(data, chunk=512)
        await until(lambda: bridge.hangups.completed == 1)
    finally:
        await bridge.close()
    row = await records.call_detail(call_id)
    assert row is not None and row.hangup_cause == 16 and row.duration_s is not None
    assert not bridge.client.connected  # the bridge owned its client


async def test_calls_up_before_the_bridge_are_picked_up_and_dropped_after_a_restart(
    fake_ami: FakeAMI,
) -> None:
    fake_ami.channels = recorded_channels()
    caller = "Local/12333@hotline-local-00000000;2"
    fake_ami.handlers["Getvar"] = answers_getvar({caller: {"HOTLINE": "12333"}})
    client = AMIClient.from_settings(settings_for(fake_ami), backoff=Backoff(0.05, 0.2))
    await client.connect()
    board = LiveBoard()
    bridge = AMIBridge(
        client, publish=board.publish, hangups=HangupRecorder(NoRecords()), owns_client=True
    )
    with board.subscribe() as changes:
        bridge.start()
        try:
            await until(lambda: bool(board.current().calls))
            (call,) = board.current().calls
            assert call.key == CALLER and call.hotline == "12333"
            assert call.stage is Stage.WAITING and 44 <= call.seconds < 47
            assert len(bridge.channels) == 3
            # Asterisk restarts; the call did not survive it.
            fake_ami.channels = []
            await fake_ami.stop()
            await fake_ami.start()
            await until(lambda: not bridge.channels)
        finally:
            await bridge.close()
        seen = changes.drain()
    calls = [change for change in seen if change.kind != "telephony"]
    assert [change.kind for change in calls] == ["started", "ended"]
    assert calls[-1].cause_text == "unknown: AMI was down"
    assert board.current().calls == ()
    # Telephony as the console shows it: up at the login, down at the restart, up again.
    assert [change.kind for change in seen].count("telephony") == 3
    telephony = board.current().telephony
    assert telephony is not None and telephony.up and "AMI connected" in telephony.reason


async def test_a_callers_bye_keeps_the_cause_of_the_hangup_request(records: Records) -> None:
    """Asterisk 22 ends a channel hung up by the caller during AGI with cause 0 on ``Hangup``;
    the ``HangupRequest`` just before it carries the real cause."""
    call_id = await open_call(records, "1.8")
    clock = Clock()
    bridge = make_bridge(records, clock)
    base = [("Channel", "PJSIP/6001-00000008"), ("Uniqueid", "1.8"), ("Linkedid", "1.8")]
    bridge.feed(Message([("Event", "Newchannel"), *base, ("ChannelState", "4")]))
    bridge.feed(Message([("Event", "Newexten"), *base, ("Exten", "12333"), ("Application", "AGI")]))
    bridge.feed(Message([("Event", "HangupRequest"), *base, ("Cause", "16")]))
    bridge.feed(Message([("Event", "Hangup"), *base, ("Cause", "0"), ("Cause-txt", "Unknown")]))
    await bridge.settle()
    row = await records.call_detail(call_id)
    assert row is not None
    assert (row.hangup_cause, row.hangup_cause_text) == (16, "Normal Clearing")


async def test_a_call_refused_by_the_dialplan_gets_one_record_counted_as_refused(
    records: Records,
) -> None:
    clock = Clock()
    ended: list[tuple[str, str]] = []
    client = AMIClient("127.0.0.1", 1, "hotline", "x")
    hangups = HangupRecorder(records, call_ended=lambda *call: ended.append(call))
    bridge = AMIBridge(client, publish=LiveBoard().publish, hangups=hangups, clock=clock)
    base = [("Channel", "PJSIP/6001-00000009"), ("Uniqueid", "1.9"), ("Linkedid", "1.9")]
    caller = [("CallerIDNum", "13800000009")]
    bridge.feed(Message([("Event", "Newchannel"), *base, *caller, ("ChannelState", "4")]))
    bridge.feed(Message([("Event", "Newexten"), *base, ("Exten", "12333"), ("Application", "Set")]))
    bridge.feed(Message([("Event", "Newexten"), *base, ("Exten", "busy"), ("Application", "Set")]))
    bridge.feed(
        Message([("Event", "VarSet"), *base, ("Variable", "HOTLINE_REFUSED"), ("Value", "en")])
    )
    clock.now += 4  # the busy prompt, as early media
    bridge.feed(Message([("Event", "Hangup"), *base, ("Cause", "17"), ("Cause-txt", "User busy")]))
    await bridge.settle()
    assert bridge.hangups.refused == 1 and ended == [("12333", "refused")]  # node metrics
    (row,) = await records.recent_calls()
    assert (row.hotline, row.caller_id, row.language) == ("12333", "13800000009", "en")
    assert row.outcome == Outcome.REFUSED and row.ended_at is not None
    assert (row.hangup_cause, row.duration_s, row.billsec) == (17, 4, 0)
    today = local(row.started_at).date()
    stats = await Statistics(records.db).call_stats(today, today)
    assert stats.outcomes == {"12333": {"refused": 1}}


async def test_the_board_shows_a_call_refused_past_the_cap_as_refused_not_in_progress(
    records: Records,
) -> None:
    """The events Asterisk 22 sent for a call refused past ``HOTLINE_MAX_CALLS`` (the node held
    one call, in the flow): the caller hears the busy prompt for a few seconds, then 486."""
    events = transcript_events("refused_call.ami")
    refused = "1700000000.202"  # the ;2 half, which runs the dialplan
    clock = Clock()
    board = LiveBoard()
    bridge = make_bridge(records, clock, board=board)
    # The call the node holds, in the flow.
    board.publish(FlowStarted("1.1", "12333", 1, "13800000000", "zh", "", datetime.now(UTC)))
    decided = until_event(events, "VarSet", Variable="HOTLINE_REFUSED")
    feed(bridge, events[: decided - 1], clock, step=0)
    # The dialplan has not counted it yet: it may be let in like any other.
    assert [c.stage for c in board.current().calls] == [Stage.MENUS, Stage.CONNECTING]

    busy = until_event(events, "Newexten", AppData="hotline/lines_busy,noanswer")
    feed(bridge, events[decided - 1 : busy], clock, step=0)
    snap = board.current()
    (call,) = [c for c in snap.calls if c.key == refused]
    assert call.stage is Stage.REFUSED and call.hotline == "96102"  # listed while the prompt plays
    assert call.language == "zh"  # the busy prompt's (HOTLINE_REFUSED): no flow tells it
    assert snap.counts(("12333", "96102")) == {"12333": 1, "96102": 0}  # not in progress
    assert snap.refused.counts(("12333", "96102")) == {"12333": 0, "96102": 1}

    clock.now += 4  # the busy prompt, as early media
    feed(bridge, events[busy:], clock, step=0)
    await bridge.settle()
    snap = board.current()
    assert [c.key for c in snap.calls] == ["1.1"]  # refused and gone
    assert snap.refused.total == 1  # still counted among the calls refused lately
    (row,) = await records.recent_calls()
    assert (row.uniqueid, row.outcome, row.hangup_cause) == (refused, Outcome.REFUSED, 17)


async def test_a_call_that_was_not_refused_gets_no_record_of_its_own() -> None:
    store = NoRecords()
    bridge = make_bridge(store, retry_delays=())
    base = [("Channel", "PJSIP/6001-0000000a"), ("Uniqueid", "1.10"), ("Linkedid", "1.10")]
    bridge.feed(Message([("Event", "Newchannel"), *base, ("ChannelState", "4")]))
    bridge.feed(Message([("Event", "Newexten"), *base, ("Exten", "12333"), ("Application", "Set")]))
    bridge.feed(Message([("Event", "VarSet"), *base, ("Variable", "HOTLINE_NEXT"), ("Value", "")]))
    bridge.feed(Message([("Event", "Hangup"), *base, ("Cause", "16")]))
    await bridge.settle()
    assert bridge.hangups.refused == 0 and [u for u, _ in store.calls] == ["1.10"]


# --- a refused caller when the AMI link comes back ---------------------------------------------


def after_the_listing(transcript: str) -> list[Message]:
    """The transcript's events that came after its CoreShowChannels listing."""
    messages = transcript_messages(transcript)
    listed = next(i for i, m in enumerate(messages) if m.event == "CoreShowChannelsComplete")
    return [m for m in messages[listed:] if m.event and "ActionID" not in m]


def bridge_on(fake_ami: FakeAMI, store: Any, board: LiveBoard, clock: Clock) -> AMIBridge:
    client = AMIClient.from_settings(settings_for(fake_ami))
    return AMIBridge(
        client, publish=board.publish, hangups=HangupRecorder(store), owns_client=True, clock=clock
    )


async def test_a_caller_hearing_the_busy_prompt_at_a_reconnection_is_listed_as_refused(
    fake_ami: FakeAMI, records: Records
) -> None:
    """Asterisk 22 listed a call refused past the cap while its caller heard the busy prompt (in
    ``hotline-play-early``, not ``busy``: only its HOTLINE_REFUSED tells it is refused); the
    bridge sees it for the first time in that listing."""
    fake_ami.channels = recorded_channels(REFUSED_RESYNC)
    fake_ami.handlers["Getvar"] = recorded_getvar(REFUSED_RESYNC, REFUSED)
    board, clock = LiveBoard(), Clock()
    bridge = bridge_on(fake_ami, records, board, clock)
    await bridge.client.connect()
    try:
        bridge.start()  # logged in: the channels are listed
        await until(lambda: bool(board.current().calls))
        await bridge.settle()
        snap = board.current()
        (call,) = snap.calls
        assert (call.key, call.hotline, call.caller_id) == (REFUSED, "96102", "13800000007")
        assert (call.stage, call.language) == (Stage.REFUSED, "zh")
        assert snap.counts(("12333", "96102")) == {"12333": 0, "96102": 0}  # none in progress
        assert snap.refused.by_hotline == {"96102": 1}
        # The prompt ends, the call is refused (486, cause 17): its one record, refused.
        clock.now += 2
        for event in after_the_listing(REFUSED_RESYNC):
            bridge.feed(event)
        await bridge.settle()
    finally:
        await bridge.close()
    assert board.current().calls == () and board.current().refused.total == 1
    (row,) = await records.recent_calls()
    assert (row.uniqueid, row.hotline, row.outcome) == (REFUSED, "96102", Outcome.REFUSED)
    assert (row.language, row.hangup_cause, row.billsec) == ("zh", 17, 0)


async def test_a_call_refused_while_the_link_was_down_comes_back_refused_not_connecting(
    fake_ami: FakeAMI,
) -> None:
    """The bridge saw the call come in, then lost the link before the dialplan refused it: the
    listing at the reconnection finds its caller hearing the busy prompt."""
    events = transcript_events(REFUSED_RESYNC)
    board, clock = LiveBoard(), Clock()
    bridge = bridge_on(fake_ami, NoRecords(), board, clock)
    feed(bridge, events[: until_event(events, "VarSet", Variable="HOTLINE_REFUSED") - 1], clock)
    assert [(c.key, c.stage) for c in board.current().calls] == [(REFUSED, Stage.CONNECTING)]

    fake_ami.channels = recorded_channels(REFUSED_RESYNC)
    fake_ami.handlers["Getvar"] = recorded_getvar(REFUSED_RESYNC, REFUSED)
    await bridge.client.connect()  # the link is back
    try:
        bridge.start()
        await until(lambda: board.current().calls[0].stage is not Stage.CONNECTING)
    finally:
        await bridge.close()
    (call,) = board.current().calls
    assert (call.key, call.stage, call.language) == (REFUSED, Stage.REFUSED, "zh")
    assert board.current().refused.by_hotline == {"96102": 1}
    assert fake_ami.count("Getvar") == 1  # known already: only whether it is refused is asked
