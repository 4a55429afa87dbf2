"""A running hotline (FastAGI server on an ephemeral port) over a seeded database."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from ivr.agi.server import FastAGIServer
from ivr.config import Settings
from ivr.speech.catalog import Catalog
from ivr.stack import Core, start_node
from ivr.store.database import upgrade_database
from ivr.store.seed import DemoCitizen, seed_demo


@dataclass
class RunningHotline:
    app: Core
    server: FastAGIServer
    settings: Settings
    citizens: list[DemoCitizen]

    @property
    def port(self) -> int:
        return self.server.port

    async def settled(self, within: float = 10.0) -> None:
        """Until every call the server took has ended (and written its record)."""
        async with asyncio.timeout(within):
            while self.server.active_calls:  # noqa: ASYNC110 - the server's own count, polled
                await asyncio.sleep(0.02)

    def citizen(self, id_number: str) -> DemoCitizen:
        return next(c for c in self.citizens if c.id_number == id_number)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog.load()


@asynccontextmanager
async def running_hotline(
    database_url: str, tmp_path: Path, env: Mapping[str, str] | None = None
) -> AsyncIterator[RunningHotline]:
    """The node as ``hotline serve`` builds it (composition root), on an ephemeral port, with
    ``env``'s settings on top of the test hash key."""
    settings = Settings.load(
        env={"HOTLINE_ID_HASH_KEY": "test-key", **(env or {})},
        data_dir=tmp_path / "var",
        db_url=database_url,
    )
    settings = dataclasses.replace(settings, agi_host="127.0.0.1", agi_port=0, ops_port=0)
    await upgrade_database(database_url)
    async with AsyncExitStack() as stack:
        node = await start_node(settings, stack, ami=False)
        citizens = await seed_demo(
            node.core.database, citizens=6, seed=7, key=settings.hash_key(), today=date.today()
        )
        yield RunningHotline(node.core, node.agi, settings, citizens)


@pytest.fixture
async def hotline(database_url: str, tmp_path: Path) -> AsyncIterator[RunningHotline]:
    async with running_hotline(database_url, tmp_path) as running:
        yield running
