"""Console account passwords: the policy a new one must meet, argon2id hashes checked off the
event loop, and when a stored hash must be made again."""

from __future__ import annotations

import pytest

from ivr.domain import password as caller_password
from ivr.domain.account_password import (
    MIN_LENGTH,
    hash_password,
    hash_password_async,
    needs_rehash,
    password_problem,
    verify_password_async,
)


@pytest.mark.parametrize(
    ("candidate", "problem"),
    [
        ("a" * (MIN_LENGTH - 1), "a console password needs at least 10 characters"),
        ("", "a console password needs at least 10 characters"),
        (" correct horse", "a console password cannot start or end with spaces"),
        ("correct horse ", "a console password cannot start or end with spaces"),
        ("a" * MIN_LENGTH, None),
        ("correct horse battery", None),  # spaces inside are fine
    ],
)
def test_password_problem(candidate: str, problem: str | None) -> None:
    assert MIN_LENGTH == 10
    assert password_problem(candidate) == problem


async def test_a_hash_accepts_its_password_only() -> None:
    stored = await hash_password_async("correct horse battery")
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert await verify_password_async(stored, "correct horse battery")
    assert not await verify_password_async(stored, "correct horse batterY")
    assert not await verify_password_async("not a hash", "correct horse battery")
    assert not needs_rehash(stored)


def test_a_hash_made_otherwise_is_made_again() -> None:
    assert hash_password("correct horse battery") != hash_password("correct horse battery")
    # The callers' PIN hash uses lighter parameters; an unreadable hash is replaced too.
    assert needs_rehash(caller_password.hash_password("135790"))
    assert needs_rehash("not a hash")
