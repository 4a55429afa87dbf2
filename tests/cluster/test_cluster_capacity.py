"""The admission cap across the cluster (``HOTLINE_MAX_CALLS``), with sipp callers through
Kamailio: a full node hands a call back unanswered and the proxy gives it to another node; when
no node has room, the caller hears that the lines are busy (early media) and the call is refused
busy, with one record, ``refused``. Placed first in the folder: it leaves every node whole."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from ivr.store import models
from tests.cluster.kit import Cluster
from tests.cluster.load import Wave
from tests.cluster.test_cluster_failures import FINISH, SETTLE, place

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="package")]

FULL = "dialplan set global HOTLINE_MAX_CALLS 0"  # no room: every new call is past the cap


async def records(wave: Wave[Cluster], count: int, within: float = 20) -> list[models.Call]:
    """The wave's records once there are ``count`` (a refused call's is written at its end)."""
    deadline = time.monotonic() + within
    while len(rows := await wave.records()) < count and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.3)
    return rows


@pytest_asyncio.fixture(loop_scope="package")
async def caps_restored(cluster: Cluster) -> AsyncIterator[None]:
    yield
    await cluster.asterisk_rx("dialplan reload")  # the rendered cap again


async def test_a_full_node_hands_its_calls_to_the_other(
    cluster: Cluster, caps_restored: None
) -> None:
    await cluster.asterisk_rx(FULL, only=0)
    wave = Wave(cluster, "capacity-one-node-full")
    await place(wave, balance=4)
    assert await wave.finish(FINISH) == {"ok": 4}, wave.logs()
    rows = await wave.settled(SETTLE)
    nodes = await wave.nodes_of(rows)
    report = wave.report(rows, nodes)
    # One record a call, each served by node 2: node 1's hand-backs left none.
    assert report["records"] == 4 and report["outcomes"] == {"served": 4}, report
    assert set(nodes.values()) == {"node2"}, report


async def test_with_every_node_full_callers_hear_the_lines_are_busy(
    cluster: Cluster, caps_restored: None
) -> None:
    await cluster.asterisk_rx(FULL)
    wave = Wave(cluster, "capacity-all-nodes-full")
    await place(wave, balance=2)
    assert await wave.finish(FINISH) == {"failed": 2}  # never answered
    rows = await records(wave, 2)
    assert [(r.outcome, r.hangup_cause, r.billsec) for r in rows] == [("refused", 17, 0)] * 2
    for placed in wave.placed:
        messages = placed.sipp.text("messages")
        # The busy prompt as early media, then the refusal.
        assert "SIP/2.0 183" in messages and "m=audio" in messages, messages[-3000:]
        assert "SIP/2.0 486" in messages
