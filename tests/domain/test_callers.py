"""The calling number as the hotline keeps it: a keyed hash of its domestic digits, nothing for a
withheld number."""

from __future__ import annotations

import pytest

from ivr.domain.callers import number_hash, number_key

KEY = b"test-key"


@pytest.mark.parametrize(
    ("sent", "known_as"),
    [
        ("13800000000", "13800000000"),
        ("+8613800000000", "13800000000"),
        ("008613800000000", "13800000000"),
        ("8613800000000", "13800000000"),
        ("+862088886666", "02088886666"),
        ("02088886666", "02088886666"),
        ("6001", None),  # an extension
        ("anonymous", None),
        ("", None),
    ],
)
def test_one_phone_is_one_number_whatever_form_the_network_sends(
    sent: str, known_as: str | None
) -> None:
    assert number_key(sent) == known_as


def test_the_hash_is_keyed_and_never_the_number() -> None:
    hashed = number_hash(KEY, "+8613800000000")
    assert hashed == number_hash(KEY, "13800000000")
    assert hashed is not None and len(hashed) == 64 and "13800000000" not in hashed
    assert hashed != number_hash(b"another-key", "13800000000")
    assert hashed != number_hash(KEY, "13800000001")
    assert number_hash(KEY, "anonymous") is None
    with pytest.raises(ValueError, match="empty"):
        number_hash(b"", "13800000000")
