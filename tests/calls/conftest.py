"""A running hotline (FastAGI server on an ephemeral port) over a seeded database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from ivr.agi.server import FastAGIServer
from ivr.config import Settings
from ivr.runtime.app import Hotline
from ivr.speech.catalog import Catalog
from ivr.store.database import upgrade_database
from ivr.store.seed import DemoCitizen, seed_demo


@dataclass
class RunningHotline:
    app: Hotline
    server: FastAGIServer
    settings: Settings
    citizens: list[DemoCitizen]

    @property
    def port(self) -> int:
        return self.server.port

    def citizen(self, id_number: str) -> DemoCitizen:
        return next(c for c in self.citizens if c.id_number == id_number)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog.load()


@pytest.fixture
async def hotline(database_url: str, tmp_path: Path) -> AsyncIterator[RunningHotline]:
    settings = Settings.load(
        env={"HOTLINE_ID_HASH_KEY": "test-key"}, data_dir=tmp_path / "var", db_url=database_url
    )
    await upgrade_database(database_url)
    app = await Hotline.open(settings)
    citizens = await seed_demo(
        app.database, citizens=6, seed=7, key=settings.hash_key(), today=date.today()
    )
    server = FastAGIServer(app.agi_routes(), host="127.0.0.1", port=0)
    await server.start()
    try:
        yield RunningHotline(app, server, settings, citizens)
    finally:
        await server.stop()
        await app.close()
