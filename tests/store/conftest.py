"""Fixtures for the store tests: an upgraded database on each back-end, records, a citizen."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ivr.store.database import Database, open_database, upgrade_database
from ivr.store.records import Records
from tests.store.support import Person, add_person


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    await upgrade_database(database_url)
    database = await open_database(database_url)
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def records(db: Database) -> Records:
    return Records(db)


@pytest.fixture
async def person(db: Database) -> Person:
    return await add_person(db)
