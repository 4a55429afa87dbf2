"""Callers' language choices, by the keyed hash of the calling number (``ivr.domain.callers``).

A choice is remembered when the caller makes it (6, 7, 8 in a main menu), is looked up with the
start of each call from that number (``CallLog.start_call``: one transaction) and counts as used
again each time the caller is greeted in it; the retention policy forgets it once unused for
``language_memory`` (``ivr.store.retention``). Choosing Mandarin, the default, forgets it at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ivr.domain.callers import Recall
from ivr.store.base import RecordsBase
from ivr.store.models import CallerLanguage, table_of

__all__ = ["CallerLanguages", "recall_language"]


_LANGUAGES = table_of(CallerLanguage).c
_REMEMBERED = select(_LANGUAGES.language).where(
    _LANGUAGES.number_hash == bindparam("number"), _LANGUAGES.used_at >= bindparam("since")
)
_USED = (
    update(table_of(CallerLanguage))
    .where(_LANGUAGES.number_hash == bindparam("number"))
    .values(used_at=bindparam("now"))
)
_FORGET = delete(table_of(CallerLanguage)).where(_LANGUAGES.number_hash == bindparam("number"))
_CHOOSE = {}  # the dialect's upsert
for _dialect, _insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert)):
    _chosen = _insert(table_of(CallerLanguage))
    _CHOOSE[_dialect] = _chosen.on_conflict_do_update(
        index_elements=[_LANGUAGES.number_hash],
        set_={"language": _chosen.excluded.language, "used_at": _chosen.excluded.used_at},
    )


def recall_language(connection: Connection, recall: Recall, *, now: datetime) -> str | None:
    """The language chosen from this number and used since ``recall.since`` (None: none), in
    a write transaction of the call's (its start): found, it counts as used again from ``now``
    (the caller is greeted in it)."""
    number = recall.number_hash
    language = connection.execute(_REMEMBERED, {"number": number, "since": recall.since}).scalar()
    if language is not None:
        connection.execute(_USED, {"number": number, "now": now})
    assert language is None or isinstance(language, str)
    return language


class CallerLanguages(RecordsBase):
    async def remember_language(self, number_hash: str, language: str, *, now: datetime) -> None:
        """Remember the choice (one upsert: two calls from one number may choose at once)."""
        row = {"number_hash": number_hash, "language": language, "used_at": now}

        def remember(connection: Connection) -> None:
            connection.execute(_CHOOSE[connection.dialect.name], row)

        await self.db.run_write(remember)

    async def forget_language(self, number_hash: str) -> None:
        def forget(connection: Connection) -> None:
            connection.execute(_FORGET, {"number": number_hash})

        await self.db.run_write(forget)
