"""A call's path as the call log keeps it: steps numbered in order, stamped in UTC, at the node the
caller was in; the live board told of every node entered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ivr.engine.context import CallContext, Step


def test_steps_are_numbered_in_order_and_stamped_in_utc_where_the_caller_was() -> None:
    ctx = CallContext(hotline="12333")
    before = datetime.now(UTC)
    ctx.enter("main", "menu")
    first = ctx.log("input", "1", "chosen")
    ctx.enter("main", "ask")
    second = ctx.log("no_input")
    assert ctx.steps == [first, second]
    assert first == Step(1, first.at, "main:menu", "input", "1", "chosen")
    assert second == Step(2, second.at, "main:ask", "no_input", "", "")
    assert first.at.utcoffset() == timedelta(0)
    assert before <= first.at <= second.at <= datetime.now(UTC)


def test_the_observer_is_told_of_every_node_entered() -> None:
    seen: list[str] = []
    ctx = CallContext(hotline="12333", observer=lambda c: seen.append(c.node))
    ctx.enter("main", "menu")
    ctx.enter("identify", "id")
    assert seen == ["main:menu", "identify:id"] and ctx.node == "identify:id"
    CallContext(hotline="12333").enter("main", "menu")  # without an observer: nobody to tell
