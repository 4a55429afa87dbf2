"""Resident ID numbers: parsing keyed and typed entries, legacy conversion, masking, hashing."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.domain.idnumber import (
    IdNumberError,
    IdProblem,
    ResidentId,
    check_character,
    id_hash,
    mask_id_entry,
    mask_ids_in_text,
    parse_id,
)

TODAY = date(2026, 5, 1)


@pytest.mark.parametrize(
    ("entry", "number", "born", "male"),
    [
        ("11010519491231002X", "11010519491231002X", date(1949, 12, 31), False),
        ("440524188001010014", "440524188001010014", date(1880, 1, 1), True),
        ("420102197305080012", "420102197305080012", date(1973, 5, 8), True),
        ("11010519491231002x", "11010519491231002X", date(1949, 12, 31), False),  # typed x
        ("11010519491231002*", "11010519491231002X", date(1949, 12, 31), False),  # keypad *
        ("11010519491231002*#", "11010519491231002X", date(1949, 12, 31), False),  # ends with #
        ("  420102197305080012 # ", "420102197305080012", date(1973, 5, 8), True),
        ("110105200002290021", "110105200002290021", date(2000, 2, 29), False),  # leap year
        ("420102730508001", "420102197305080012", date(1973, 5, 8), True),  # legacy 15 digits
        ("420102730508001#", "420102197305080012", date(1973, 5, 8), True),
    ],
)
def test_valid_entries(entry: str, number: str, born: date, male: bool) -> None:
    resident = parse_id(entry, today=TODAY)
    assert resident.number == number
    assert resident.birth_date == born
    assert resident.is_male is male
    assert resident.area_code == number[:6]


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("", IdProblem.LENGTH),
        ("11010519491231002", IdProblem.LENGTH),  # 17
        ("11010519491231002X1", IdProblem.LENGTH),  # 19
        ("4201027305080", IdProblem.LENGTH),
        ("1101051949123100*X", IdProblem.CHARACTERS),  # * before the last character
        ("X10105194912310021", IdProblem.CHARACTERS),
        ("11010519491231002Y", IdProblem.CHARACTERS),
        ("4201027305080X1", IdProblem.CHARACTERS),  # no X in a 15-digit number
        ("42010273050800*", IdProblem.CHARACTERS),
        ("11010519491231002¹", IdProblem.CHARACTERS),  # isdigit() but not a digit
        ("110105194902310026", IdProblem.BIRTH_DATE),  # 31 February, check character right
        ("110105199902290021", IdProblem.BIRTH_DATE),  # 29 February 1999, check character right
        ("110105194913310021", IdProblem.BIRTH_DATE),  # month 13, check character right
        ("110105194900010021", IdProblem.BIRTH_DATE),  # month 0
        ("420102731308001", IdProblem.BIRTH_DATE),  # legacy number, month 13
        ("110105203001010028", IdProblem.FUTURE_BIRTH_DATE),  # check character right
        ("110105194912310021", IdProblem.CHECK_CHARACTER),
        ("420102197305080013", IdProblem.CHECK_CHARACTER),
        ("44052418800101001X", IdProblem.CHECK_CHARACTER),
    ],
)
def test_invalid_entries(entry: str, problem: IdProblem) -> None:
    with pytest.raises(IdNumberError) as caught:
        parse_id(entry, today=TODAY)
    assert caught.value.problem is problem
    assert isinstance(caught.value, ValueError)


def test_birth_today_is_not_future() -> None:
    today = date(2020, 1, 1)
    first17 = "11010520200101002"
    assert parse_id(first17 + check_character(first17), today=today).birth_date == today
    with pytest.raises(IdNumberError) as caught:
        parse_id(first17 + check_character(first17), today=date(2019, 12, 31))
    assert caught.value.problem is IdProblem.FUTURE_BIRTH_DATE


def test_legacy_number_with_future_19xx_date() -> None:
    with pytest.raises(IdNumberError) as caught:
        parse_id("420102730508001", today=date(1973, 5, 7))
    assert caught.value.problem is IdProblem.FUTURE_BIRTH_DATE


def test_check_character() -> None:
    assert check_character("11010519491231002") == "X"
    assert check_character("44052418800101001") == "4"
    assert check_character("42010219730508001") == "2"
    with pytest.raises(IdNumberError):
        check_character("4201021973050800")


def test_error_message_does_not_contain_the_number() -> None:
    with pytest.raises(IdNumberError) as caught:
        parse_id("110105194912310021", today=TODAY)
    assert "110105194912310021" not in str(caught.value)
    assert "1949" not in str(caught.value)
    assert str(caught.value) == "invalid resident ID number: check_character"


def test_masked_everywhere() -> None:
    resident = parse_id("11010519491231002X", today=TODAY)
    assert resident.masked == "110105********002X"
    assert str(resident) == "110105********002X"
    assert "19491231" not in repr(resident)
    assert "19491231" not in f"{resident}"
    assert "19491231" not in repr([resident])


def test_resident_id_constructor_validates() -> None:
    with pytest.raises(IdNumberError) as caught:
        ResidentId("11010519491231002x")  # the canonical form has an upper-case X
    assert caught.value.problem is IdProblem.CHARACTERS
    with pytest.raises(IdNumberError) as caught:
        ResidentId("110105194912310021")
    assert caught.value.problem is IdProblem.CHECK_CHARACTER
    with pytest.raises(IdNumberError) as caught:
        ResidentId("42010273050800")
    assert caught.value.problem is IdProblem.LENGTH
    assert ResidentId("420102197305080012") == parse_id("420102730508001", today=TODAY)


def test_hash() -> None:
    resident = parse_id("11010519491231002*", today=TODAY)
    digest = id_hash(b"key-one", resident)
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert digest == id_hash(b"key-one", "11010519491231002x")  # same number, same hash
    assert digest != id_hash(b"key-two", resident)
    assert digest != id_hash(b"key-one", "420102197305080012")
    assert "11010519491231002X" not in digest
    with pytest.raises(ValueError) as empty_key:  # a configuration error: the message names it
        id_hash(b"", resident)
    assert str(empty_key.value) == "the ID-hash key is empty"
    with pytest.raises(IdNumberError):
        id_hash(b"key-one", "110105194912310021")


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("caller 11010519491231002X failed", "caller 110105********002X failed"),
        ("id=11010519491231002x;", "id=110105********002x;"),
        ("keyed 11010519491231002*#", "keyed 110105********002*#"),
        ("420102197305080012", "420102********0012"),
        ("old 420102730508001.", "old 420102*****8001."),
        ("420102730508001", "420102*****8001"),  # a text no longer than the shortest ID
        ("a 420102197305080012 b 440524188001010014", "a 420102********0012 b 440524********0014"),
        ("姓名张三身份证420102197305080012。", "姓名张三身份证420102********0012。"),
        # Not IDs: longer or shorter digit runs, phone numbers, already masked text.
        ("ts 1234567890123456789", "ts 1234567890123456789"),
        ("card 6222021234567890123", "card 6222021234567890123"),
        ("phone 13800138000", "phone 13800138000"),
        ("16 digits 1234567890123456", "16 digits 1234567890123456"),
        ("110105********002X", "110105********002X"),
    ],
)
def test_mask_ids_in_text(text: str, masked: str) -> None:
    assert mask_ids_in_text(text) == masked


@pytest.mark.parametrize(
    ("entry", "shown"),
    [
        ("11010519491231002*", "110105********002X"),
        ("110105194912310021", "110105********0021"),  # wrong check character: masked alike
        ("420102730508001", "420102*****8001"),
        ("11010519491231002", "*" * 17),  # one short: nothing of it shown
        ("1101051949123100", "*" * 16),
        ("1101051949123100211", "*" * 19),
        ("12345", "*****"),
        ("", ""),
    ],
)
def test_mask_id_entry(entry: str, shown: str) -> None:
    assert mask_id_entry(entry) == shown


@given(st.text(alphabet="0123456789*", max_size=40))
def test_a_masked_entry_never_shows_more_than_a_masked_id(entry: str) -> None:
    """Whatever is keyed: the length is kept, at most the first 6 and the last 4 keys show, and
    never 7 keyed digits in a row (so never an ID, nor a prefix of one long enough to find it)."""
    shown = mask_id_entry(entry)
    assert len(shown) == len(entry)
    visible = [i for i, char in enumerate(shown) if char != "*"]
    assert all(i < 6 or i >= len(entry) - 4 for i in visible)
    assert not re.search(r"[0-9]{7}", shown)
    assert mask_ids_in_text(shown) == shown  # already as masked as the log guard would make it
