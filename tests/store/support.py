"""Shared by the store tests: fixed times, a citizen with a card written straight to the tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from ivr.domain.cards import CardStatus
from ivr.domain.idnumber import id_hash
from ivr.store.database import Database
from ivr.store.models import Card, Citizen

KEY = b"test-id-hash-key"
NOW = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # a Monday, 09:00 in Beijing


@dataclass(frozen=True)
class Person:
    citizen_id: int
    card_id: int
    id_hash: str
    id_masked: str
    card_number: str


async def add_person(
    db: Database, number: str = "11010519491231002X", card_number: str = "A12345678"
) -> Person:
    """A citizen with a normal card, written straight to the tables (no argon2: a dummy hash)."""
    hashed = id_hash(KEY, number)
    masked = number[:6] + "********" + number[-4:]
    async with db.write() as session:
        citizen = Citizen(
            id_hash=hashed, id_masked=masked, name="测试", password_hash="$argon2id$x"
        )
        session.add(citizen)
        await session.flush()
        card = Card(
            citizen_id=citizen.id,
            number=card_number,
            status=CardStatus.NORMAL,
            status_since=NOW,
            issued_on=date(2020, 5, 1),
        )
        session.add(card)
        await session.flush()
        return Person(citizen.id, card.id, hashed, masked, card_number)
