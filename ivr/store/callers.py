"""Callers' language choices, by the keyed hash of the calling number (``ivr.domain.callers``).

A choice is remembered when the caller makes it (6, 7, 8 in a main menu), is looked up with the
start of each call from that number (``CallLog.start_call``: one transaction) and counts as used
again each time the caller is greeted in it; the retention policy forgets it once unused for
``language_memory`` (``ivr.store.retention``). Choosing Mandarin, the default, forgets it at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.domain.callers import Recall
from ivr.store.base import RecordsBase
from ivr.store.models import CallerLanguage

__all__ = ["CallerLanguages", "recall_language"]


async def recall_language(session: AsyncSession, recall: Recall, *, now: datetime) -> str | None:
    """The language chosen from this number and used since ``recall.since`` (None: none), in
    a write transaction of the call's (its start): found, it counts as used again from ``now``
    (the caller is greeted in it)."""
    language = await session.scalar(
        select(CallerLanguage.language).where(
            CallerLanguage.number_hash == recall.number_hash,
            CallerLanguage.used_at >= recall.since,
        )
    )
    if language is not None:
        await session.execute(
            update(CallerLanguage)
            .where(CallerLanguage.number_hash == recall.number_hash)
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
    return language


class CallerLanguages(RecordsBase):
    async def remember_language(self, number_hash: str, language: str, *, now: datetime) -> None:
        """Remember the choice (one upsert: two calls from one number may choose at once)."""
        insert: Any = pg_insert if self.db.dialect == "postgresql" else sqlite_insert
        statement = (
            insert(CallerLanguage)
            .values(number_hash=number_hash, language=language, used_at=now)
            .on_conflict_do_update(
                index_elements=[CallerLanguage.number_hash],
                set_={"language": language, "used_at": now},
            )
        )
        async with self.db.write() as session:
            await session.execute(statement)

    async def forget_language(self, number_hash: str) -> None:
        async with self.db.write() as session:
            await session.execute(
                delete(CallerLanguage).where(CallerLanguage.number_hash == number_hash)
            )
