"""Fixtures for the store tests: an upgraded database on each back-end, records, a citizen."""

from __future__ import annotations

import pytest

from ivr.store.database import Database
from ivr.store.records import Records
from tests.store.support import Person, add_person


@pytest.fixture
def records(db: Database) -> Records:
    return Records(db)


@pytest.fixture
async def person(db: Database) -> Person:
    return await add_person(db)
