"""Failures under load, on a cluster started as the README says (``hotline cluster up``): two
Asterisk + hotline nodes behind Kamailio, one PostgreSQL. sipp callers spread over both nodes
run balance checks and loss reports while a part fails; each test reports calls placed, answered,
completed, fallback and failed (``test-output/cluster/<test>.json``) and accounts for every call.

In order, each leaving the cluster whole for the next: PostgreSQL restarted; one Asterisk frozen
(it stops answering; Kamailio's probes take it out, and back in when it answers again); one hotline
node killed with SIGKILL (last: it is not started again).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from ivr.domain.cards import CardStatus
from ivr.store import models
from tests.cluster.kit import Cluster
from tests.cluster.load import ARRIVAL, Wave, citizens
from tests.telephony import sipkit
from tests.telephony.sipkit import AgentPhone

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="package")]

SPACING = 0.7  # seconds between two callers of a wave
FINISH = 300.0  # the longest a wave's callers may take
SETTLE = 90.0  # until every record is ended (a dead node's: another's sweep, 15 s after)
OUTAGE = 4.0  # seconds PostgreSQL is down


async def place(wave: Wave[Cluster], balance: int, loss: int = 0) -> None:
    for citizen in await citizens(wave.cluster, loss, card=CardStatus.NORMAL):
        await wave.loss_report(citizen)
        await asyncio.sleep(SPACING)
    for citizen in await citizens(wave.cluster, balance):
        await wave.balance_check(citizen)
        await asyncio.sleep(SPACING)


async def in_progress(
    wave: Wave[Cluster], count: int, node: str | None = None, within: float = 90
) -> None:
    """Until ``count`` of the wave's calls are open (on ``node``, if given)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        rows = [r for r in await wave.records() if r.ended_at is None]
        nodes = await wave.nodes_of(rows)
        if sum(1 for r in rows if node is None or nodes[r.id] == node) >= count:
            return
        await asyncio.sleep(0.3)
    pytest.fail(f"{count} calls never were in progress{f' on {node}' if node else ''}")


def pid_of(path: os.PathLike[str]) -> int:
    with open(path) as file:
        return int(file.read().strip())


async def test_an_agent_registered_at_the_proxy_answers_the_queue_of_either_node(
    cluster: Cluster, agents_open: None
) -> None:
    """One registration at Kamailio serves both nodes: each Asterisk's agent queue rings the
    agent through the proxy."""
    agent = AgentPhone(cluster.caller_settings(), sipkit.OUTPUT / "cluster" / "agent" / "7001")
    await agent.start()
    try:
        await asyncio.sleep(2)  # registered (sipp's REGISTER, challenged, answered 200)
        wave = Wave(cluster, "agent")
        for citizen in await citizens(cluster, 2):
            await wave.to_agent(citizen)
            await asyncio.sleep(SPACING)
        sipp = await wave.finish(FINISH)
        rows = await wave.settled(SETTLE)
        nodes = await wave.nodes_of(rows)
        wave.report(rows, nodes)
        await agent.calls_ended(within=20)
    finally:
        await agent.end_shift(within=30)
    assert sipp == {"ok": 2}, wave.logs()
    assert agent.answered() == 2, agent.sipp.report()
    assert sorted(nodes.values()) == ["node1", "node2"]  # round robin: one call each
    assert all(r.outcome == "agent" for r in rows), [(r.id, r.outcome) for r in rows]


async def test_postgresql_restarted_under_load(cluster: Cluster) -> None:
    """PostgreSQL stopped for a few seconds, then started: callers reaching a database step
    meanwhile hear the technical-problem prompt and go to the agents; nothing is claimed that was
    not written; both nodes serve the next calls without being restarted."""
    during = Wave(cluster, "postgres-restart")
    await place(during, balance=10, loss=2)
    await in_progress(during, 8)
    await cluster.postgres.stop()  # fast shutdown: every connection cut
    await asyncio.sleep(OUTAGE)  # callers reaching a database step now hear the fault
    await cluster.postgres.start()
    restarted = datetime.now(UTC)
    await asyncio.sleep(ARRIVAL.total_seconds())  # the first wave's callers are all in by now
    after = Wave(cluster, "postgres-after-restart")
    await place(after, balance=6)
    sipp = await during.finish(FINISH)
    sipp_after = await after.finish(FINISH)
    rows = await during.settled(SETTLE)
    report = during.report(rows, await during.nodes_of(rows))
    after_rows = await after.settled(SETTLE)
    assert all(r.started_at >= restarted for r in after_rows)
    after_report = after.report(after_rows, await after.nodes_of(after_rows))

    assert sipp_after == {"ok": 6} and after_report["completed"] == 6, after.logs()
    assert (
        set(await after.nodes_of(after_rows))
        and len(set((await after.nodes_of(after_rows)).values())) == 2
    )  # both nodes took calls again
    assert sipp.get("failed", 0) == 0, during.logs()
    assert report["answered"] == len(during.placed)
    assert all(r.ended_at is not None for r in rows), "a record was left open"
    # Every caller has a record, unless the database was away when the call came in (the caller
    # then heard the technical-problem prompt; no record could be written, none is claimed).
    assert len(rows) >= len(during.placed) - 2
    for row in rows:
        assert row.outcome in ("served", "error"), (row.id, row.outcome, row.last_node)
    # A loss report either exists whole (card stopped) or not at all.
    async with cluster.database.read() as session:
        for report_row in await session.scalars(
            select(models.LossReport).where(models.LossReport.reported_at >= during.began)
        ):
            card = await session.get(models.Card, report_row.card_id)
            assert card is not None and card.settlement_stopped_at is not None


async def test_an_asterisk_that_stops_answering_is_taken_out_by_the_proxy(
    cluster: Cluster,
) -> None:
    """Node 2's Asterisk frozen (SIGSTOP: a hung server; a clean stop is restarted within a second
    by its node's supervisor): Kamailio's OPTIONS probes find it gone, new calls all go to node 1,
    whose calls in progress are untouched; thawed, it takes calls again."""
    node2 = cluster.layout.nodes[1]
    before = Wave(cluster, "asterisk-stop-before")
    await place(before, balance=6)
    await in_progress(before, 2, node="node1")
    asterisk = pid_of(node2.data_dir / "asterisk" / "state" / "run" / "asterisk.pid")
    os.kill(asterisk, signal.SIGSTOP)
    try:
        await asyncio.sleep(cluster.probe_seconds * 2 + 1)  # probed twice: out of the set
        during = Wave(cluster, "asterisk-stopped")
        await place(during, balance=8)
        sipp = await during.finish(FINISH)
        rows = await during.settled(SETTLE)
        nodes = await during.nodes_of(rows)
        report = during.report(rows, nodes)
    finally:
        os.kill(asterisk, signal.SIGCONT)
    sipp_before = await before.finish(FINISH)
    before_rows = await before.settled(SETTLE)
    before_nodes = await before.nodes_of(before_rows)

    assert sipp == {"ok": 8}, during.logs()
    assert report["completed"] == 8 and set(nodes.values()) == {"node1"}, report
    on_node1 = [r for r in before_rows if before_nodes[r.id] == "node1"]
    assert on_node1 and all(r.outcome == "served" for r in on_node1), before.report(
        before_rows, before_nodes
    )
    assert sipp_before.get("ok", 0) >= len(on_node1)
    # Thawed, node 2 answers the probes again and takes its share.
    await asyncio.sleep(cluster.probe_seconds * 2 + 1)
    again = Wave(cluster, "asterisk-thawed")
    await place(again, balance=4)
    assert await again.finish(FINISH) == {"ok": 4}, again.logs()
    again_rows = await again.settled(SETTLE)
    assert "node2" in set((await again.nodes_of(again_rows)).values())


async def test_a_hotline_node_killed_under_load(cluster: Cluster, agents_open: None) -> None:
    """``kill -9`` of node 1's hotline process: its callers in progress hear the fallback and
    reach the agent queue; its Asterisk hands new calls to node 2's FastAGI; every call has a
    record, the cut ones marked interrupted by node 2's sweep."""
    node1 = cluster.layout.nodes[0]
    during = Wave(cluster, "node-killed")
    await place(during, balance=10, loss=2)
    await in_progress(during, 3, node="node1")
    os.kill(pid_of(node1.data_dir / "hotline-up.pid"), signal.SIGKILL)
    killed = datetime.now(UTC)
    await asyncio.sleep(ARRIVAL.total_seconds())  # the first wave's callers are all in by now
    after = Wave(cluster, "node-killed-after")
    await place(after, balance=8)
    sipp = await during.finish(FINISH)
    sipp_after = await after.finish(FINISH)
    rows = await during.settled(SETTLE)
    nodes = await during.nodes_of(rows)
    report = during.report(rows, nodes)
    after_rows = await after.settled(SETTLE)
    assert all(r.started_at >= killed for r in after_rows)
    after_nodes = await after.nodes_of(after_rows)
    after_report = after.report(after_rows, after_nodes)

    assert sipp.get("failed", 0) == 0 and sipp_after == {"ok": 8}, during.logs() + after.logs()
    assert len(rows) == len(during.placed), report  # none lost
    assert all(r.ended_at is not None for r in rows), report
    cut = [r for r in rows if nodes[r.id] == "node1" and r.outcome != "served"]
    assert cut and all(r.outcome == "interrupted" for r in cut), report
    assert all(r.outcome == "served" for r in rows if r not in cut), report  # the others, whole
    assert after_report["completed"] == 8 and set(after_nodes.values()) == {"node2"}
    # The cut callers reached the agent queue on node 1's Asterisk (still up).
    queue_log = (node1.data_dir / "asterisk" / "state" / "log" / "queue_log").read_text()
    entered = {line.split("|")[1] for line in queue_log.splitlines() if "|ENTERQUEUE|" in line}
    assert {r.uniqueid for r in cut} <= entered, (entered, [r.uniqueid for r in cut])
