"""What every part of the records API shares: the database and small helpers."""

from __future__ import annotations

from typing import overload

from ivr.store.database import Database

__all__ = ["RecordsBase", "clip"]


@overload
def clip(text: str, length: int) -> str: ...
@overload
def clip(text: None, length: int) -> None: ...
@overload
def clip(text: str | None, length: int) -> str | None: ...


def clip(text: str | None, length: int) -> str | None:
    """Cut free text to its column's length (a long note must never lose a call's record)."""
    return None if text is None else text[:length]


class RecordsBase:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def close(self) -> None:
        await self.db.close()
