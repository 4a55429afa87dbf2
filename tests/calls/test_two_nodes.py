"""Two nodes on one records database serving the same citizen at the same time: the lock-out
counts every wrong password once whichever node took it, and a lost card is reported once.

Each node is built as ``hotline serve`` builds it (``start_node``), with its own data folder
and FastAGI port; the calls go through their real sockets, half to each node.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ivr.config import Settings
from ivr.domain.cards import CardStatus
from ivr.stack import Node, start_node
from ivr.store import models
from ivr.store.database import upgrade_database
from ivr.store.seed import DemoCitizen, seed_demo
from tests.agipeer import PeerResult, run_call
from tests.calls.test_full_calls import keyed_id
from tests.calls.test_lockout_race import LIMIT, heard, wrong_passwords
from tests.spies import PasswordCheckSpy, spy_on_query_passwords


@dataclasses.dataclass
class Pair:
    nodes: tuple[Node, Node]
    citizens: list[DemoCitizen]

    def call(self, index: int, script: str, entries: list[str]) -> asyncio.Task[PeerResult]:
        """A call to node ``index % 2``: the calls of a burst alternate between the nodes."""
        node = self.nodes[index % 2]
        return asyncio.create_task(run_call("127.0.0.1", node.agi.port, script, entries))


@pytest.fixture
async def pair(database_url: str, tmp_path: Path) -> AsyncIterator[Pair]:
    await upgrade_database(database_url)
    async with AsyncExitStack() as stack:
        nodes = []
        for name in ("node1", "node2"):
            settings = Settings.load(
                env={"HOTLINE_ID_HASH_KEY": "test-key"},
                data_dir=tmp_path / name,
                db_url=database_url,
            )
            settings = dataclasses.replace(
                settings, agi_host="127.0.0.1", agi_port=0, ops_port=0, node_name=name
            )
            nodes.append(await start_node(settings, stack, ami=False))
        citizens = await seed_demo(
            nodes[0].core.database, citizens=6, seed=7, key=b"test-key", today=date.today()
        )
        yield Pair((nodes[0], nodes[1]), citizens)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> PasswordCheckSpy:
    return spy_on_query_passwords(monkeypatch)


async def test_forty_wrong_passwords_over_two_nodes_check_only_three(
    pair: Pair, spy: PasswordCheckSpy
) -> None:
    citizen = pair.citizens[1]
    wrong = wrong_passwords(citizen, 40)
    results = await asyncio.gather(
        *(
            pair.call(i, "12333", ["1", keyed_id(citizen), pw + "#", "1"])
            for i, pw in enumerate(wrong)
        )
    )
    assert len(spy.checked) == LIMIT  # across both nodes
    async with pair.nodes[0].core.database.read() as session:
        row = await session.scalar(
            select(models.Citizen).where(models.Citizen.id_masked == citizen.masked)
        )
        runs = set(
            await session.scalars(
                select(models.Run.node).join(models.Call, models.Call.run_id == models.Run.id)
            )
        )
    assert row is not None and row.password_failures == LIMIT and row.locked_until is not None
    assert runs == {"node1", "node2"}  # both nodes took calls of the burst
    told = [heard(result) for result in results]
    assert sum("account_locked" in sounds for sounds in told) == 40 - (LIMIT - 1)
    assert not any("pension_balance_is" in sounds for sounds in told)


async def test_a_lost_card_reported_on_both_nodes_at_once_is_reported_once(pair: Pair) -> None:
    citizen = next(c for c in pair.citizens if c.card_status is CardStatus.NORMAL)
    entries = ["1", keyed_id(citizen), citizen.initial_password + "#", "1"]
    results = await asyncio.gather(*(pair.call(i, "96102", entries) for i in range(6)))
    told = [heard(result) for result in results]
    async with pair.nodes[0].core.database.read() as session:
        reports = await session.scalar(
            select(func.count())
            .select_from(models.LossReport)
            .where(models.LossReport.id_masked == citizen.masked)
        )
        card = await session.scalar(
            select(models.Card)
            .join(models.Citizen)
            .where(models.Card.number == citizen.card_number)
        )
    assert reports == 1
    assert card is not None and card.status is CardStatus.PROVISIONALLY_LOST
    assert sum("loss_reported" in sounds for sounds in told) == 1, told
