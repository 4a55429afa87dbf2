"""Column types that behave the same on SQLite and PostgreSQL.

- ``UTCDateTime``: only timezone-aware datetimes go in; they are stored in UTC (``timestamptz`` on
  PostgreSQL, a fixed-width UTC text on SQLite, so comparisons in SQL stay correct) and always come
  back aware, in UTC.
- ``Money``: exact yuan amounts. ``NUMERIC(12, 2)`` on PostgreSQL; on SQLite, which has no exact
  decimal type, an integer number of fen (cents), so sums and comparisons stay exact there too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Numeric
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["ROW_ID_MAX", "Money", "UTCDateTime", "utcnow"]

ROW_ID_MAX = 2**31 - 1  # row ids are INTEGER: 32 bits on PostgreSQL
_FEN = Decimal("0.01")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime: the store keeps only timezone-aware datetimes")
        value = value.astimezone(UTC)
        # SQLite stores text: keep it naive UTC so every row has the same width and order.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Money(TypeDecorator[Decimal]):
    impl = Numeric(12, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(12, 2, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        amount = Decimal(value).quantize(_FEN)
        if dialect.name == "sqlite":
            return int(amount / _FEN)
        return amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) * _FEN).quantize(_FEN)
        return Decimal(value).quantize(_FEN)
