"""Several FastAGI servers behind one real Asterisk 22 (``HOTLINE_AGI_PEERS``): a call goes to the
node's own server first and to the next when that one does not take it; a flow that started on a
node that then dies is never started again elsewhere: the caller hears the fallback.

Two hotline nodes (``ivr.stack.start_node``) share one records database; the Asterisk is this
module's own, configured with the peer list, and only its own FastAGI address changes hands.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import date
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import select

from ivr.config import Settings
from ivr.sim.console import write_tone
from ivr.stack import Node, start_node
from ivr.store import models
from ivr.store.database import upgrade_database
from ivr.store.seed import seed_demo
from ivr.telephony import LocalAsterisk
from tests.telephony.callkit import AMIClient, Call, free_port, make_settings, shared_rootfs

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]


@dataclasses.dataclass
class Pair:
    settings: Settings  # Asterisk's and node A's (its own FastAGI address)
    peer: Settings  # node B's
    asterisk: LocalAsterisk
    ami: AMIClient


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pair(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Pair]:
    folder = tmp_path_factory.mktemp("failover")
    url = f"sqlite+aiosqlite:///{folder / 'shared.db'}"  # one records database for both nodes
    await upgrade_database(url)
    peer_port = free_port()
    own = dataclasses.replace(
        make_settings(folder / "a"),
        db_url=url,
        id_hash_key="failover-key",
        node_name="node-a",
        agi_peers=f"127.0.0.1:{peer_port}",
        ops_port=0,  # each node's ops server on a free port of its own
    )
    peer = dataclasses.replace(own, data_dir=folder / "b", agi_port=peer_port, node_name="node-b")
    # A long greeting keeps the flow busy while a test kills its node (other prompts are missing:
    # the flow then ends with its technical-problem path, which these tests do not reach).
    greeting = own.prompts_dir / "zh" / "hotline" / "greeting_12333.wav"
    await asyncio.to_thread(write_tone, greeting, 10.0)
    asterisk = LocalAsterisk(own, rootfs=shared_rootfs())
    await asterisk.start()
    try:
        ami = await AMIClient.connect(own)
        login = await ami.action("Login", Username=own.ami_user, Secret=own.ami_secret)
        assert login["Response"] == "Success", login
        try:
            yield Pair(own, peer, asterisk, ami)
        finally:
            await ami.close()
    finally:
        await asterisk.stop()


async def _node(stack: AsyncExitStack, settings: Settings) -> Node:
    node = await start_node(settings, stack, ami=False)
    await seed_demo(node.core.database, citizens=1, seed=7, key=b"failover-key", today=date.today())
    return node


async def _call_row(node: Node, uniqueid: str) -> models.Call:
    async with asyncio.timeout(20):
        while True:
            async with node.core.database.read() as session:
                row = await session.scalar(
                    select(models.Call).where(models.Call.uniqueid == uniqueid)
                )
            if row is not None and row.ended_at is not None:
                return row
            await asyncio.sleep(0.1)


async def test_a_call_goes_to_the_next_node_when_its_own_does_not_answer(
    pair: Pair, tmp_path: Path
) -> None:
    async with AsyncExitStack() as stack:
        peer = await _node(stack, pair.peer)  # node A's FastAGI is down: nothing listens
        call = Call(pair.ami, "12333")
        await call.place(wait_s=8)
        await call.reached("AGI")
        await call.ended()
        row = await _call_row(peer, call.hotline_id)
        assert call.variable("HOTLINE_NODE") == "node-b"
        steps = call.steps()
        assert sum(1 for app, _ in steps if app == "AGI") == 2  # node A's refused, node B's ran
        assert ("Set", "HOTLINE_FALLBACK=1") not in steps
        async with peer.core.database.read() as session:
            run = await session.get(models.Run, row.run_id)
        assert run is not None and run.node == "node-b"


async def test_a_flow_cut_by_its_node_dying_is_not_started_again_elsewhere(pair: Pair) -> None:
    async with AsyncExitStack() as stack:
        await _node(stack, pair.peer)
        own = await _node(stack, pair.settings)
        call = Call(pair.ami, "12333")
        await call.place(wait_s=15)
        await call.reached("AGI")
        await asyncio.sleep(1.0)  # the flow is playing the greeting on node A
        await own.agi.stop(grace=0)  # node A dies under the call
        await pair.ami.wait_event(
            lambda e: (
                e.get("Event") == "VarSet"
                and e.get("Uniqueid") == call.hotline_id
                and e.get("Variable") == "HOTLINE_FALLBACK"
            )
        )
        steps = call.steps()
        assert sum(1 for app, _ in steps if app == "AGI") == 1  # never handed to node B
        assert call.variable("HOTLINE_NODE") == "node-a"
        await call.ended()
