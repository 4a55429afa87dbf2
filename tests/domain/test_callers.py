"""The calling number as the hotline keeps it: a keyed hash of its domestic digits, nothing for a
withheld number."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ivr.domain.callers import LanguageMemory, Recall, number_hash, number_key
from ivr.domain.idnumber import id_hash
from ivr.domain.retention import RetentionPolicy

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
        ("95588", "95588"),  # a five-digit service number is a caller's number
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
    with pytest.raises(ValueError) as empty_key:  # a configuration error: the message names it
        number_hash(b"", "13800000000")
    assert str(empty_key.value) == "the hash key is empty"


def test_a_remembered_hash_still_matches_after_an_upgrade() -> None:
    # The hash is stored with the caller's language: the same key and number must give the same
    # hash from one release to the next, or every remembered language is lost.
    expected = "07c96f4ea2e3fe2c92d7b1a059e156b3cb69d53a69ee62136bbe4dca58a67b82"
    assert number_hash(b"test-key", "+8613800000000") == expected


def test_a_calling_number_never_hashes_like_an_id_number_with_the_same_digits() -> None:
    # Both hashes share one key: an 18-digit number must not match the ID hash of those digits.
    digits = "420102197305080012"
    assert number_hash(KEY, digits) != id_hash(KEY, digits)


def test_a_call_recalls_a_language_by_the_number_hash_for_the_memory_period_only() -> None:
    now = datetime(2026, 3, 1, 9, tzinfo=UTC)
    year = timedelta(days=365)
    remembering = LanguageMemory(KEY, RetentionPolicy(None, None, language_memory=year))
    assert remembering.recall("+8613800000000", now) == Recall(
        number_hash(KEY, "13800000000") or "", now - year
    )
    assert remembering.recall("anonymous", now) is None  # nothing is kept for it
    forgetting = LanguageMemory(KEY, RetentionPolicy(None, None, language_memory=None))
    assert forgetting.number("13800000000") is None
    assert forgetting.recall("13800000000", now) is None
