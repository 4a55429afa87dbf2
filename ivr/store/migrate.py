"""Alembic, configured in code: no ``alembic.ini``, so migrations run the same from any folder.

``upgrade_sync`` is blocking; async code calls ``ivr.store.database.upgrade_database`` instead,
which runs it in a worker thread.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import URL

__all__ = ["MIGRATIONS_DIR", "alembic_config", "upgrade_sync"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | URL) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Passed as an attribute, not a main option: ConfigParser would choke on a "%" in a password.
    config.attributes["url"] = url
    return config


def upgrade_sync(url: str | URL, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)
