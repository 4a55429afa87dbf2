"""Fan-out: every reader gets every change in order; a slow reader loses the oldest, and knows."""

from __future__ import annotations

import asyncio

from ivr.live.fanout import Fanout


async def test_each_reader_gets_every_change_in_order() -> None:
    fanout: Fanout[int] = Fanout()
    with fanout.subscribe() as first, fanout.subscribe() as second:
        for n in range(3):
            fanout.publish(n)
        assert first.drain() == [0, 1, 2]
        assert [await second.next_change(0) for _ in range(3)] == [0, 1, 2]
        assert await second.next_change(0.01) is None  # nothing more: the time-out passes


async def test_a_reader_waiting_is_woken_by_the_next_change() -> None:
    fanout: Fanout[str] = Fanout()
    with fanout.subscribe() as reader:
        waiting = asyncio.create_task(reader.next_change(5))
        await asyncio.sleep(0)
        fanout.publish("moved")
        assert await asyncio.wait_for(waiting, 1) == "moved"


def test_a_slow_reader_keeps_the_newest_changes_and_counts_the_rest() -> None:
    fanout: Fanout[int] = Fanout(capacity=3)
    with fanout.subscribe() as slow:
        for n in range(5):
            fanout.publish(n)
        assert slow.drain() == [2, 3, 4]
        assert slow.missed == 2


def test_a_reader_that_left_gets_nothing_and_costs_nothing() -> None:
    fanout: Fanout[int] = Fanout()
    with fanout.subscribe() as reader:
        assert fanout.readers == 1
    fanout.publish(1)
    assert fanout.readers == 0 and reader.closed and reader.drain() == []
