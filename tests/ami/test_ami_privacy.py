"""An ID number anywhere in what Asterisk sends never leaves the AMI bridge unmasked: not on the
live board (what supervisors see), not in the channels it keeps, not in the call records it
writes, not in its logs.

Every event kind the bridge reads carries an ID number in every header but Asterisk's own
identifiers (``Uniqueid``, ``Linkedid``, ``CommandId``: Asterisk's numbers, matched against the
records, so never rewritten), alone or inside other text. The headers that steer the reducer
(``Variable: HOTLINE``...) are given their meaning in events of their own, so the call is a call
on the board, refused or completed, and its values come from the ID-laden headers.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from ivr.ami.bridge import AMIBridge
from ivr.ami.channels import Now
from ivr.ami.client import AMIClient
from ivr.ami.hangups import HangupRecorder
from ivr.ami.protocol import Message
from ivr.ami.reducer import EVENTS
from ivr.ami.resync import IDENTITY, Redacted, adopt
from ivr.domain.hotlines import HOTLINES
from ivr.domain.idnumber import mask_ids_in_text
from ivr.live.board import LiveBoard
from ivr.live.events import LiveEvent
from ivr.store import models
from ivr.store.database import open_database, upgrade_database
from ivr.store.records import Records

ID_NUMBERS = ("11010519491231002X", "440305198802290017")
# Every header of the channel snapshot Asterisk puts in a channel event, and every one the
# reducer reads of any event kind.
HEADERS = (
    "Channel", "ChannelState", "ChannelStateDesc", "CallerIDNum", "CallerIDName",
    "ConnectedLineNum", "ConnectedLineName", "Language", "AccountCode", "Context", "Exten",
    "Priority", "Extension", "Application", "AppData", "Newname", "Variable", "Value", "Command",
    "Result", "Queue", "MemberName", "Interface", "DestChannel", "Cause", "Cause-txt",
    "Duration", "ApplicationData",
)  # fmt: skip
CALLS = ("1764580000.7", "1764580000.8")  # refused; let in, its record completed


def laden(id_number: str, uniqueid: str, event: str, **steering: str) -> Message:
    """``event`` with the ID number in every header (alone or in text) but the identities."""
    pairs = [("Event", event), ("Uniqueid", uniqueid), ("Linkedid", uniqueid)]
    for index, header in enumerate(HEADERS):
        value = id_number if index % 2 else f"PJSIP/{id_number}-0000002a x {id_number}"
        pairs.append((header, steering.get(header, value)))
    return Message([*pairs, ("CommandId", "1482516721")])


def call_events(id_number: str, uniqueid: str, *, refused: bool) -> list[Message]:
    events = [laden(id_number, uniqueid, "Newchannel"), laden(id_number, uniqueid, "Newexten")]
    events.append(laden(id_number, uniqueid, "VarSet", Variable="HOTLINE"))  # a call from now
    if refused:
        events.append(laden(id_number, uniqueid, "VarSet", Variable="HOTLINE_REFUSED"))
    events.append(laden(id_number, uniqueid, "VarSet", Variable="HOTLINE_FALLBACK", Value="1"))
    events += [laden(id_number, uniqueid, name) for name in sorted(EVENTS - {"Hangup"})]
    events.append(laden(id_number, uniqueid, "Hangup"))
    return events


@pytest.fixture
async def records(sqlite_url: str) -> AsyncIterator[Records]:
    await upgrade_database(sqlite_url)
    database = await open_database(sqlite_url)
    try:
        yield Records(database)
    finally:
        await database.close()


async def stored_calls(records: Records) -> list[dict[str, Any]]:
    async with records.db.read() as session:
        rows = list(await session.scalars(select(models.Call)))
    return [{c.name: getattr(row, c.name) for c in models.Call.__table__.columns} for row in rows]


@pytest.mark.parametrize("id_number", ID_NUMBERS)
async def test_no_id_number_leaves_the_bridge_unmasked(
    id_number: str, records: Records, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ivr")
    started = datetime.now(UTC)
    await records.start_call(
        hotline="12333", caller_id="13800000000", uniqueid=CALLS[1],
        channel="PJSIP/6001-0000002b", language="zh", started_at=started,
    )  # fmt: skip
    board = LiveBoard()
    told: list[LiveEvent] = []

    def publish(event: LiveEvent) -> None:
        told.append(event)
        board.publish(event)

    client = AMIClient("127.0.0.1", 1, "hotline", "x")  # never connected: events are fed
    bridge = AMIBridge(client, publish=publish, hangups=HangupRecorder(records))
    seen: list[str] = []  # everything the bridge kept or showed along the way
    for uniqueid, refused in zip(CALLS, (True, False), strict=True):
        for event in call_events(id_number, uniqueid, refused=refused):
            bridge.feed(event)
            seen += [repr(board.current()), repr(dict(bridge.channels))]
    await bridge.settle()

    calls = await stored_calls(records)
    out = [*seen, repr(told), repr(calls), caplog.text]
    out += [record.getMessage() for record in caplog.records]
    assert not [text for text in out if id_number in text]
    masked = mask_ids_in_text(id_number)
    # Not vacuous: the calls were shown and recorded, with the masked values.
    assert {e.uniqueid for e in told} == set(CALLS)
    assert sorted(c["uniqueid"] for c in calls) == list(CALLS)
    assert all(masked in c["hangup_cause_text"] for c in calls)
    refused_row = next(c for c in calls if c["uniqueid"] == CALLS[0])
    assert masked in refused_row["caller_id"] and masked in refused_row["channel"]
    assert any(masked in text for text in seen)


@pytest.mark.parametrize("id_number", ID_NUMBERS)
def test_a_listed_channel_is_adopted_masked(id_number: str) -> None:
    """After a reconnection the channels come from ``CoreShowChannels``, masked the same way."""
    item = laden(id_number, "1764580000.9", "CoreShowChannel", Exten=HOTLINES[0])
    now = Now(100.0, datetime.now(UTC))
    channel = adopt(Redacted(item, mask_ids_in_text), now, HOTLINES)
    assert channel.is_call and id_number not in repr(channel)
    assert mask_ids_in_text(id_number) in channel.caller_id


def test_every_way_to_a_redacted_value_is_masked() -> None:
    """A value is masked when read, whichever way it is read; identities are kept as they are."""
    id_number = ID_NUMBERS[0]
    event = Message(
        [("Event", "VarSet"), ("Uniqueid", "1.5"), ("Value", id_number), ("value", id_number)]
    )
    redacted = Redacted(event, mask_ids_in_text)
    masked = mask_ids_in_text(id_number)
    views = [
        redacted["VALUE"], redacted.get("value"), redacted.get("Value", ""),
        *redacted.getall("Value"), *(v for _, v in redacted.pairs), *redacted.values(),
        repr(redacted), str(dict(redacted)), str(list(redacted.items())),
    ]  # fmt: skip
    assert views[:5] == [masked] * 5
    assert not [view for view in views if id_number in view]
    assert redacted["Uniqueid"] == "1.5" and "uniqueid" in IDENTITY
    assert redacted.get("Missing") is None and redacted.get("Missing", "-") == "-"
    assert len(redacted) == len(event) and list(redacted) == list(event)
