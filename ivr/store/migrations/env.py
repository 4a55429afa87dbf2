"""Alembic environment: runs the migrations over an async engine (aiosqlite or asyncpg).

The URL comes from ``config.attributes["url"]`` (set by ``ivr.store.migrate``), else from the
``sqlalchemy.url`` option, else from the ``HOTLINE_DB_URL`` environment variable.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from ivr.store.database import async_url, configure_sqlite
from ivr.store.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    url = url or os.environ.get("HOTLINE_DB_URL")
    if not url:
        raise RuntimeError("no database URL for the migrations")
    return str(url) if isinstance(url, str) else url.render_as_string(hide_password=False)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_async_engine(async_url(_url()), poolclass=NullPool)
    if engine.dialect.name == "sqlite":
        # One immediate transaction around the whole upgrade: all or nothing, even on SQLite.
        configure_sqlite(engine.sync_engine, immediate_always=True)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
