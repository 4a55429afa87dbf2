"""Turn prompt parts into the sound keys a caller hears, in the call's language."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from ivr.engine.context import CallContext
from ivr.engine.model import Choice, Once, Part, Value
from ivr.speech import readback


def expand(parts: Iterable[Part], ctx: CallContext) -> list[str]:
    sounds: list[str] = []
    for part in parts:
        if isinstance(part, str):
            sounds.append(part)
        elif isinstance(part, Choice):
            sounds.append(part.prefix + str(ctx.vars[part.var]))
        elif isinstance(part, Once):
            if part.key not in ctx.said_once:
                ctx.said_once.add(part.key)
                sounds.append(part.key)
        else:
            sounds.extend(read_back(ctx.language, part, ctx.vars[part.var]))
    return sounds


def read_back(language: str, value: Value, data: Any) -> list[str]:
    match value.kind:
        case "amount":
            return readback.amount(language, Decimal(data))
        case "date":
            assert isinstance(data, date)
            return readback.date(language, data)
        case "year_month":
            assert isinstance(data, date)
            return readback.year_month(language, data.year, data.month)
        case "digits":
            return readback.digits(language, str(data))
        case "number":
            return readback.number(language, int(data))
        case "months":
            return readback.count(language, int(data), "month")
        case "days":
            return readback.count(language, int(data), "day")
        case "working_days":
            return readback.count(language, int(data), "working_day")
