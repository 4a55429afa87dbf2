"""What a caller hears for a node's prompts: prompt keys as they are, values read back in the
call's language as their kind says, a prompt chosen by a variable, a hint said once a call."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ivr.engine.context import CallContext
from ivr.engine.model import Choice, Once, Value, ValueKind
from ivr.engine.speak import expand
from ivr.speech import readback

DAY = date(2024, 1, 31)


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize(
    ("kind", "data", "heard"),
    [
        ("amount", "1055.5", lambda lang: readback.amount(lang, Decimal("1055.50"))),
        ("date", DAY, lambda lang: readback.date(lang, DAY)),
        ("year_month", DAY, lambda lang: readback.year_month(lang, 2024, 1)),
        ("digits", 12333, lambda lang: readback.digits(lang, "12333")),
        ("number", "115", lambda lang: readback.number(lang, 115)),
        ("months", "2", lambda lang: readback.count(lang, 2, "month")),
        ("days", 3, lambda lang: readback.count(lang, 3, "day")),
        ("working_days", "15", lambda lang: readback.count(lang, 15, "working_day")),
    ],
)
def test_a_value_is_read_back_as_its_kind_says_in_the_call_s_language(
    language: str, kind: ValueKind, data: object, heard: object
) -> None:
    ctx = CallContext(hotline="t", language=language, vars={"v": data})
    expected = heard(language)  # type: ignore[operator]
    assert expand(["before", Value(kind, "v"), "after"], ctx) == ["before", *expected, "after"]


def test_a_prompt_chosen_by_a_variable_and_a_hint_said_once_a_call() -> None:
    ctx = CallContext(hotline="t", vars={"status": "suspended"})
    parts = [Once("keys_hint"), Choice("status", "card_", ("active", "suspended")), "menu"]
    assert expand(parts, ctx) == ["keys_hint", "card_suspended", "menu"]
    assert expand(parts, ctx) == ["card_suspended", "menu"]
    assert expand(parts, CallContext(hotline="t", vars={"status": "active"})) == [
        "keys_hint",
        "card_active",
        "menu",
    ]
