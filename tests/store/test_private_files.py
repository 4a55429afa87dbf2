"""The SQLite database, its WAL and shared-memory files, and the data folder are their owner's
alone, whatever the umask of the process that opens them (a test, a library user, an old file)."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from ivr.config import Settings
from ivr.store.database import open_database, upgrade_database


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The umask most shells start with: files 0644, folders 0755."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def modes(folder: Path) -> dict[str, int]:
    return {p.name: mode(p) for p in folder.iterdir()}


@pytest.mark.usefixtures("open_umask")
async def test_a_new_database_and_its_wal_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "hotline.db"
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade_database(url)
    database = await open_database(url)
    try:
        async with database.write() as session:
            await session.execute(text("CREATE TABLE probe (x INTEGER)"))
            await session.execute(text("INSERT INTO probe VALUES (1)"))
        # While a connection is open the WAL and shared-memory files exist.
        async with database.read() as session:
            assert await session.scalar(text("SELECT x FROM probe")) == 1
            files = modes(path.parent)
    finally:
        await database.close()
    assert files == {"hotline.db": 0o600, "hotline.db-wal": 0o600, "hotline.db-shm": 0o600}
    assert mode(path.parent) == 0o700  # created for the database: private too


@pytest.mark.usefixtures("open_umask")
async def test_an_open_database_left_by_an_older_version_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "hotline.db"
    with sqlite3.connect(path) as connection:  # 0644, and its WAL left behind open too
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE probe (x INTEGER)")
        left = sqlite3.connect(path)
        left.execute("INSERT INTO probe VALUES (1)")
        left.commit()
    assert mode(path) == 0o644 and mode(path.with_name("hotline.db-wal")) == 0o644
    database = await open_database(f"sqlite+aiosqlite:///{path}")
    try:
        assert modes(tmp_path) == {
            "hotline.db": 0o600,
            "hotline.db-wal": 0o600,
            "hotline.db-shm": 0o600,
        }
    finally:
        left.close()
        await database.close()


@pytest.mark.usefixtures("open_umask")
def test_the_data_folder_is_made_private_and_an_open_one_closed(tmp_path: Path) -> None:
    fresh = Settings.load(env={}, data_dir=tmp_path / "a" / "var")
    assert mode(fresh.make_data_dir()) == 0o700
    assert mode(tmp_path / "a") == 0o755  # a parent is not the hotline's to close
    existing = tmp_path / "b"
    existing.mkdir(mode=0o775)
    existing.chmod(0o775)
    assert mode(Settings.load(env={}, data_dir=existing).make_data_dir()) == 0o700
    key = fresh.data_dir / "id-hash.key"
    fresh.hash_key()
    assert mode(key) == 0o600
