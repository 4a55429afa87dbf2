"""Live calls: the flow's callers, and those waiting for an agent after it (from the AMI bridge)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from ivr.engine.context import CallContext
from ivr.runtime.live import LiveCalls


@dataclass(frozen=True)
class Channel:
    uniqueid: str
    hotline: str | None
    queue: str | None = None
    waiting_seconds: float | None = None
    fallback: bool = False
    outgoing: bool = False
    started_at: datetime = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    seconds: float = 42.0


def test_moves_are_pushed_and_waiting_callers_listed() -> None:
    live = LiveCalls()
    queue = live.watch()
    ctx = CallContext(hotline="12333", uniqueid="1.1")
    live.started(ctx)
    ctx.enter("12333", "main")
    events = [queue.get_nowait() for _ in range(queue.qsize())]
    assert [e["event"] for e in events] == ["started", "moved"]
    assert events[-1]["node"] == "12333:main"
    live.attach_channels(
        lambda: [
            Channel("1.1", "12333", queue="hotline-agents"),  # still in the flow: listed once
            Channel("2.1", "96102", queue="hotline-agents", waiting_seconds=12),
            Channel("3.1", "12333", fallback=True),
            Channel("4.1", "12333", queue="hotline-agents", outgoing=True),  # the agent's leg
            Channel("5.1", None),  # not a hotline call
        ]
    )
    rows = {call.uniqueid: call for call in live.snapshot()}
    assert set(rows) == {"1.1", "2.1", "3.1"}
    assert rows["1.1"].node == "12333:main"
    assert rows["2.1"].node == "queue:hotline-agents (waiting for an agent, 12 s)"
    assert rows["3.1"].node.startswith("fallback")
    live.ended(ctx)
    ctx.enter("12333", "query_menu")  # after the end, no more events
    assert [queue.get_nowait()["event"] for _ in range(queue.qsize())] == ["ended"]
