"""The admission cap in the real Asterisk 22, with the real hotline behind it: a node that holds
``HOTLINE_MAX_CALLS`` calls refuses the next one before the flow. Its caller hears that all lines
are busy (early media: the call is never answered) and the call is refused as busy; the AMI bridge
writes its one record (outcome refused) and shows it on the live board as refused, not as a call in
progress; the call already in the flow goes on untouched."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio

from ivr.domain.hotlines import HOTLINES
from ivr.domain.outcomes import Outcome
from ivr.live.board import LiveBoard, LiveSnapshot, Stage
from ivr.store import models
from ivr.telephony import LocalAsterisk
from tests.telephony.callkit import AMIClient, Call, Line

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="session")]

BUSY_PROMPT = ("Playback", "hotline/lines_busy,noanswer")


@pytest_asyncio.fixture(loop_scope="session")
async def one_call_at_once(asterisk: LocalAsterisk) -> AsyncIterator[None]:
    """The node takes one call at once (the rendered cap comes back with a dialplan reload)."""
    await asterisk.rx("dialplan set global HOTLINE_MAX_CALLS 1")
    try:
        yield
    finally:
        await asterisk.rx("dialplan reload")


async def record_of(line: Line, uniqueid: str, within: float = 10) -> list[models.Call]:
    """The call records with this uniqueid, once there is one (the bridge writes it after the
    hang-up)."""
    deadline = time.monotonic() + within
    while True:
        rows = [row for row in await line.call_rows() if row.uniqueid == uniqueid]
        if rows or time.monotonic() > deadline:
            return rows
        await asyncio.sleep(0.1)


async def reaches_the_flow(line: Line, ami: AMIClient) -> Call:
    """A 12333 call let in: it reaches the flow, no busy prompt; hung up and settled."""
    call = Call(ami, "12333")
    await call.place()
    await call.reached("AGI")
    assert BUSY_PROMPT not in call.steps()
    await call.hang_up(after_s=0)
    await line.settled()
    return call


async def door_closed(line: Line, within: float, until: float = 1) -> float | None:
    """The node's ``hotline_admission_closed`` gauge once it reads ``until`` (or the time is up)."""
    deadline = time.monotonic() + within
    while True:
        value = line.app.metrics.registry.get_sample_value("hotline_admission_closed")
        if value == until or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.05)


async def board_when(
    board: LiveBoard, check: Callable[[LiveSnapshot], bool], within: float = 5
) -> LiveSnapshot:
    """The live board's snapshot once ``check`` holds (the bridge reads AMI on its own link)."""
    deadline = time.monotonic() + within
    with board.subscribe() as changes:
        while not check(snap := board.current()) and time.monotonic() < deadline:
            await changes.wait(deadline - time.monotonic())
            changes.drain()
    return snap


async def test_past_the_cap_the_caller_hears_the_lines_are_busy_and_the_call_is_refused(
    line: Line, ami: AMIClient, one_call_at_once: None
) -> None:
    first = Call(ami, "12333")
    await first.place()
    await first.reached("AGI")  # in the flow: the one place is taken
    await ami.wait_event(
        lambda e: e.get("Event") == "AGIExecStart" and e.get("Uniqueid") == first.hotline_id
    )

    second = Call(ami, "96102")
    await second.place()
    await second.reached("Playback")  # the busy prompt, as early media: a few seconds
    snap = await board_when(
        line.app.board,
        lambda s: any(c.key == second.hotline_id and c.stage is Stage.REFUSED for c in s.calls),
    )
    stages = {call.key: call.stage for call in snap.calls}
    assert stages == {first.hotline_id: Stage.MENUS, second.hotline_id: Stage.REFUSED}, snap
    assert snap.counts(HOTLINES) == {"12333": 1, "96102": 0}  # the one in progress
    assert snap.refused.by_hotline == {"96102": 1}
    await second.ended()
    steps = second.steps()
    apps = [app for app, _ in steps]
    assert BUSY_PROMPT in steps, steps  # the built prompt played: no core sound after it
    assert not any(data.startswith("all-circuits-busy-now") for _, data in steps)
    assert "AGI" not in apps and "Answer" not in apps, steps
    hung_up = await ami.wait_event(
        lambda e: e.get("Event") == "Hangup" and e.get("Uniqueid") == second.hotline_id
    )
    assert hung_up["Cause"] == "17", hung_up  # refused as busy, never answered

    (refused,) = await record_of(line, second.hotline_id)
    assert (refused.hotline, refused.outcome) == ("96102", Outcome.REFUSED)
    assert refused.ended_at is not None and refused.billsec == 0
    assert refused.hangup_cause == 17 and refused.language == "zh"
    assert line.bridge.hangups.refused == 1
    snap = await board_when(line.app.board, lambda s: len(s.calls) == 1)
    assert [call.key for call in snap.calls] == [first.hotline_id]
    assert snap.refused.by_hotline == {"96102": 1}  # gone from the list, still counted
    counted = {"hotline": "96102", "outcome": "refused"}  # the node's /metrics
    assert line.app.metrics.registry.get_sample_value("hotline_calls_total", counted) == 1

    # The first caller is still in the flow, unaffected; its record is its own.
    assert line.server.active_calls == 1
    assert not any(
        e.get("Event") == "Hangup" and e.get("Uniqueid") == first.hotline_id for e in ami.events
    )
    await first.hang_up(after_s=0)
    await line.settled()
    rows = await line.call_rows()
    assert sorted(row.hotline for row in rows) == ["12333", "96102"], await line.describe()
    (kept,) = [row for row in rows if row.uniqueid == first.hotline_id]
    assert kept.outcome != Outcome.REFUSED and kept.ended_at is not None


async def test_below_the_cap_a_call_reaches_the_flow(
    line: Line, ami: AMIClient, one_call_at_once: None
) -> None:
    await reaches_the_flow(line, ami)
    (row,) = await line.call_rows()
    assert row.outcome != Outcome.REFUSED and line.bridge.hangups.refused == 0


async def test_while_password_checks_are_queued_new_calls_hear_the_lines_are_busy(
    line: Line, ami: AMIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Saturated below the cap: while the node's password checks queue, its admission gate keeps
    Asterisk's lease ahead of the clock and a new caller is refused as past the cap; once they
    catch up the lease runs out and callers reach the flow again."""
    verifier = line.app.verifier
    # Every caller would be told to hold: the queue is past its limit (the hold limit is the
    # setting a node runs with; nothing else of the pool changes).
    monkeypatch.setattr(verifier, "hold_after", -1)
    assert await door_closed(line, within=5) == 1  # /metrics tells the door is closed

    refused = Call(ami, "12333")
    await refused.place()
    await refused.ended()
    steps = refused.steps()
    assert BUSY_PROMPT in steps, steps
    assert ("Verbose", "1,hotline 12333: refused, password checks queued on the hotline") in steps
    apps = [app for app, _ in steps]
    assert "AGI" not in apps and "Answer" not in apps, steps
    (row,) = await record_of(line, refused.hotline_id)
    assert (row.hotline, row.outcome, row.billsec) == ("12333", Outcome.REFUSED, 0)

    monkeypatch.undo()  # the checks caught up: the lease is no longer renewed
    assert await door_closed(line, within=10, until=0) == 0
    let_in = await reaches_the_flow(line, ami)
    rows = await line.call_rows()
    assert sorted(row.uniqueid for row in rows) == sorted([refused.hotline_id, let_in.hotline_id])
    (kept,) = [row for row in rows if row.uniqueid == let_in.hotline_id]
    assert kept.outcome != Outcome.REFUSED
