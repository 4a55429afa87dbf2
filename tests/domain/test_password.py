"""Query passwords: initial password, rules for a new one, argon2id hashing."""

from __future__ import annotations

from datetime import date

import pytest

from ivr.domain.idnumber import parse_id
from ivr.domain.password import (
    hash_password,
    hash_password_async,
    initial_password,
    needs_rehash,
    password_problem,
    verify_password,
)

RESIDENT = parse_id("420102197305080012", today=date(2026, 1, 1))


def test_initial_password_is_six_digits_before_the_last() -> None:
    assert initial_password(RESIDENT) == "508001"
    assert initial_password(parse_id("11010519491231002X", today=date(2026, 1, 1))) == "231002"


@pytest.mark.parametrize(
    ("candidate", "problem"),
    [
        ("12345", "length"),
        ("1234567", "length"),
        ("", "length"),
        ("12a456", "length"),
        ("13579X", "length"),  # an X belongs to ID numbers, not to passwords
        ("１２３４５６", "length"),  # full-width digits are not keypad digits
        ("111111", "all_same"),
        ("000000", "all_same"),
        ("123456", "sequence"),
        ("654321", "sequence"),
        ("012345", "sequence"),
        ("987654", "sequence"),
        ("508001", "initial"),
        ("135790", None),
        ("123455", None),
        ("112233", None),
        ("890123", None),  # wraps round, not a straight run
    ],
)
def test_password_problem(candidate: str, problem: str | None) -> None:
    assert password_problem(candidate, RESIDENT) == problem


def test_initial_rule_needs_the_resident() -> None:
    assert password_problem("508001") is None


def test_hash_and_verify() -> None:
    stored = hash_password("135790")
    assert stored.startswith("$argon2id$")
    assert "m=19456,t=2,p=1" in stored
    assert "135790" not in stored
    assert verify_password(stored, "135790")
    assert not verify_password(stored, "135791")
    assert not verify_password("not a hash", "135790")
    assert not verify_password("", "135790")
    assert hash_password("135790") != stored  # salted
    assert not needs_rehash(stored)


async def test_async_hash_verifies() -> None:
    stored = await hash_password_async("246813")
    assert verify_password(stored, "246813")
    assert not verify_password(stored, "246814")
