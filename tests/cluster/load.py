"""Calls placed on a running cluster (or one node: ``bench/e2e_load.py``) by sipp callers, and what
became of each.

Each caller is one sipp process through the proxy (Kamailio) or to the node's Asterisk, keying RFC
2833 DTMF on a script timed from the built prompts (see ``tests/telephony/sipkit.py``): a balance
check on 12333 or a provisional loss report on 96102. A wave's report counts calls placed, answered
(the 200 OK came), completed (the record says served), fallback (the record says interrupted or
error: the caller heard the apology or the technical-problem prompt, then the agents) and failed (no
answer, a sipp error, or no record).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Generic, Protocol, TypeVar

import pytest
from sqlalchemy import select

from ivr.config import Settings
from ivr.domain.cards import CardStatus
from ivr.domain.idnumber import id_hash
from ivr.engine.model import End, Say
from ivr.flows.card_services import CARD_SERVICES
from ivr.flows.hotline12333 import HOTLINE_12333
from ivr.store import models
from ivr.store.database import Database
from ivr.store.seed import DemoCitizen
from tests.cluster.kit import Cluster
from tests.telephony import sipkit
from tests.telephony.sipkit import LEAD, HangUp, Key, PromptClock, SippProcess, Step
from tests.telephony.test_telephony_sipp import greeting, keyed_id, node

TESTER = "6001"
REPORTS = sipkit.OUTPUT.parent / "cluster"
TALK_S = 5.0  # on the line with the agent
ARRIVAL = timedelta(seconds=5)  # from sipp's start to the flow's record, at most


class Switchboard(Protocol):
    """Where a wave's calls go and are recorded: a cluster, or one node."""

    @property
    def settings(self) -> Settings: ...
    @property
    def database(self) -> Database: ...
    @property
    def prompts(self) -> PromptClock: ...
    @property
    def challenge(self) -> int: ...  # 407 from a proxy, 401 from Asterisk itself
    def caller_settings(self) -> Settings: ...


S = TypeVar("S", bound=Switchboard)


@dataclass
class Placed:
    sipp: SippProcess
    citizen: DemoCitizen
    hotline: str


@dataclass
class Wave(Generic[S]):
    """Calls of one failure test (or load step), and the moment it began (records are counted
    from then)."""

    cluster: S
    name: str
    folder: Path = sipkit.OUTPUT / "cluster"  # sipp's files, under <folder>/<name>/
    began: datetime = field(default_factory=lambda: datetime.now(UTC))
    placed: list[Placed] = field(default_factory=list)
    last_placed: datetime | None = None

    async def balance_check(self, citizen: DemoCitizen) -> Placed:
        prompts = self.cluster.prompts
        async with self.cluster.database.read() as session:
            balance = await session.scalar(
                select(models.PensionAccount.balance)
                .join(models.Citizen)
                .where(
                    models.Citizen.id_hash
                    == id_hash(self.cluster.settings.hash_key(), citizen.id_number)
                )
            )
        assert isinstance(balance, Decimal)
        read_back = prompts.says(
            node(HOTLINE_12333, "pension_say", Say).prompts, pension_balance=balance
        )
        steps: list[Step] = [
            Key("1", greeting(prompts, "12333") + LEAD, "main menu: personal query"),
            Key(keyed_id(citizen), LEAD, "during enter_id"),
            Key(citizen.initial_password + "#", LEAD, "during enter_password"),
            Key("1", LEAD, "query menu: pension account"),
        ]
        return await self._call("12333", citizen, steps, HangUp(read_back + LEAD))

    async def to_agent(self, citizen: DemoCitizen) -> Placed:
        """0 in the main menu; on with the agent a few seconds, then the caller hangs up."""
        prompts = self.cluster.prompts
        steps: list[Step] = [Key("0", greeting(prompts, "12333") + LEAD, "main menu: an agent")]
        talk = prompts.says(node(HOTLINE_12333, "agent", End).prompts) + TALK_S
        return await self._call("12333", citizen, steps, HangUp(talk))

    async def loss_report(self, citizen: DemoCitizen) -> Placed:
        """A provisional report; the caller hangs up once the reference and the next steps,
        read back at once, are heard (a caller whose call was cut meanwhile waits as long)."""
        assert citizen.card_status is CardStatus.NORMAL
        prompts = self.cluster.prompts
        today = date.today()
        told = prompts.says_at_most(  # the longest it can be: six random digits, the lapse date
            node(CARD_SERVICES, "loss_reference", Say).prompts,
            reference=[today.strftime("%y%m%d") + d * 6 for d in "0123456789"],
            lapses_on=[today + timedelta(days=n) for n in range(60)],
        )
        steps: list[Step] = [
            Key("1", greeting(prompts, "96102") + LEAD, "card menu: report a loss"),
            Key(keyed_id(citizen), LEAD, "during enter_id"),
            Key(citizen.initial_password + "#", LEAD, "during enter_password_or_statement"),
            Key("1", LEAD, "confirm the card"),
        ]
        return await self._call("96102", citizen, steps, HangUp(told + LEAD))

    async def _call(
        self, number: str, citizen: DemoCitizen, steps: list[Step], end: HangUp
    ) -> Placed:
        name = f"{len(self.placed) + 1:02d}-{number}"
        folder = self.folder / self.name / name
        files = sipkit.write_caller(
            folder, user=TESTER, steps=steps, end=end, challenge=self.cluster.challenge
        )
        sipp = sipkit.caller_sipp(
            files, self.cluster.caller_settings(), number=number, user=TESTER, name=name
        )
        await sipp.start()
        placed = Placed(sipp, citizen, number)
        self.placed.append(placed)
        self.last_placed = datetime.now(UTC)
        return placed

    async def finish(self, within: float) -> dict[str, int]:
        """Every caller's end (killed past ``within``), then the count of each sipp result."""
        codes = await asyncio.gather(
            *(p.sipp.finish(within) for p in self.placed), return_exceptions=True
        )
        return Counter("ok" if code == 0 else "failed" for code in codes)

    async def records(self) -> list[models.Call]:
        """The records of the calls this wave placed: those that came in while it placed them
        (a call reaches its flow within a few seconds; the next wave starts later)."""
        until = (self.last_placed or datetime.now(UTC)) + ARRIVAL
        async with self.cluster.database.read() as session:
            rows = await session.scalars(
                select(models.Call).where(
                    models.Call.started_at >= self.began, models.Call.started_at <= until
                )
            )
            return list(rows)

    async def settled(self, within: float) -> list[models.Call]:
        """The wave's records once every one is ended (a dead node's by another's sweep)."""
        deadline = time.monotonic() + within
        while True:
            rows = await self.records()
            if rows and all(r.ended_at is not None for r in rows):
                return rows
            if time.monotonic() > deadline:
                return rows
            await asyncio.sleep(0.5)

    async def nodes_of(self, rows: list[models.Call]) -> dict[int, str]:
        """call id -> the node whose run took it."""
        async with self.cluster.database.read() as session:
            runs = {r.id: r.node for r in await session.scalars(select(models.Run))}
        return {row.id: runs.get(row.run_id or 0, "?") for row in rows}

    def report(self, rows: list[models.Call], nodes: dict[int, str]) -> dict[str, object]:
        answered = sum(1 for p in self.placed if "answered" in " ".join(p.sipp.log_lines()))
        outcomes = Counter(r.outcome for r in rows)
        completed = outcomes["served"] + outcomes["agent"]  # the flow or an agent helped
        fallback = outcomes["interrupted"] + outcomes["error"]
        failed = len(self.placed) - answered + max(0, answered - len(rows))
        report: dict[str, object] = {
            "test": self.name,
            "placed": len(self.placed),
            "answered": answered,
            "completed": completed,
            "fallback": fallback,
            "failed": failed,
            "records": len(rows),
            "outcomes": dict(outcomes),
            "by_node": dict(Counter(nodes.values())),
        }
        REPORTS.mkdir(parents=True, exist_ok=True)
        (REPORTS / f"{self.name}.json").write_text(json.dumps(report, indent=2) + "\n")
        print(f"\n{self.name}: {json.dumps(report)}")
        return report

    def logs(self) -> str:
        return "\n".join(p.sipp.report(tail=15) for p in self.placed if p.sipp.running)


async def citizens(
    cluster: Cluster, count: int, *, card: CardStatus | None = None
) -> list[DemoCitizen]:
    """``count`` citizens no earlier test of the cluster used, with a card in the ``card`` state
    now (a loss report changes a card)."""
    if card is not None:  # by the keyed hash: two citizens may share a masked form
        async with cluster.database.read() as session:
            rows = await session.execute(
                select(models.Citizen.id_hash).join(models.Card).where(models.Card.status == card)
            )
            in_state = {hashed for (hashed,) in rows}
    key = cluster.settings.hash_key()
    found = [
        c
        for c in cluster.citizens
        if c.id_number not in cluster.used
        and (card is None or id_hash(key, c.id_number) in in_state)
    ][:count]
    if len(found) < count:
        pytest.fail(f"the cluster's demo data has too few unused citizens ({len(found)})")
    cluster.used.update(c.id_number for c in found)
    return found
