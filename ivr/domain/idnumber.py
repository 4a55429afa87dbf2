"""Resident ID numbers (GB 11643-1999): parsing what a caller keys, masking, keyed hashing.

A full ID number is personal data (PIPL art. 51), so this module makes the safe thing the easy one:
``ResidentId`` prints only its masked form, exception messages never contain the number, the store
keeps only ``id_hash`` and ``mask_ids_in_text`` is applied to every log line by ``ivr.logs``.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date

__all__ = [
    "IdNumberError",
    "IdProblem",
    "ResidentId",
    "check_character",
    "id_hash",
    "mask_id_entry",
    "mask_ids_in_text",
    "parse_id",
]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"  # indexed by the weighted sum mod 11 (ISO 7064 MOD 11-2)
_ASCII_DIGITS = frozenset("0123456789")
# A final X may arrive as x (typed text) or * (the phone keypad has no X).
_X_SPELLINGS = frozenset("Xx*")

_SHORTEST_ID = 15  # the legacy numbers' length: no shorter text can hold an ID-looking run
# An ID-looking run: 18 characters (the last may be X/x/*) or 15 digits, not inside a longer run.
_ID_IN_TEXT = re.compile(r"(?<![0-9])(?:[0-9]{17}[0-9Xx*]|[0-9]{15})(?![0-9])")


class IdProblem(enum.Enum):
    LENGTH = "length"
    CHARACTERS = "characters"
    BIRTH_DATE = "birth_date"  # no such day (31 February, month 13, 29 February of a common year)
    FUTURE_BIRTH_DATE = "future_birth_date"
    CHECK_CHARACTER = "check_character"


class IdNumberError(ValueError):
    """Not a valid ID number; ``problem`` says why (the message never holds the number)."""

    def __init__(self, problem: IdProblem) -> None:
        super().__init__(f"invalid resident ID number: {problem.value}")
        self.problem = problem


def _mask(number: str) -> str:
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def _is_digits(text: str) -> bool:
    # str.isdigit() would accept superscripts and other scripts' digits.
    return bool(text) and all(c in _ASCII_DIGITS for c in text)


def check_character(first17: str) -> str:
    """The 18th character for the first 17 digits."""
    if len(first17) != 17 or not _is_digits(first17):
        raise IdNumberError(IdProblem.CHARACTERS)
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def _birth_date(number: str) -> date:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdNumberError(IdProblem.BIRTH_DATE) from None


@dataclass(frozen=True, repr=False)
class ResidentId:
    """A well-formed 18-character ID number (final X upper-case); shows itself only masked."""

    number: str

    def __post_init__(self) -> None:
        number = self.number
        if len(number) != 18:
            raise IdNumberError(IdProblem.LENGTH)
        if not _is_digits(number[:17]) or not (_is_digits(number[17]) or number[17] == "X"):
            raise IdNumberError(IdProblem.CHARACTERS)
        _birth_date(number)
        if check_character(number[:17]) != number[17]:
            raise IdNumberError(IdProblem.CHECK_CHARACTER)

    @property
    def birth_date(self) -> date:
        return _birth_date(self.number)

    @property
    def area_code(self) -> str:
        return self.number[:6]

    @property
    def is_male(self) -> bool:
        return int(self.number[16]) % 2 == 1  # the sequence number is odd for men

    @property
    def masked(self) -> str:
        return _mask(self.number)

    def __repr__(self) -> str:
        return f"ResidentId({self.masked!r})"

    def __str__(self) -> str:
        return self.masked


def parse_id(text: str, *, today: date) -> ResidentId:
    """Validate a keyed or typed ID number; 15-digit legacy numbers are converted to 18.

    Accepts surrounding spaces, a trailing ``#`` (end of keypad entry), ``*`` or ``x`` for final X.
    Raises ``IdNumberError`` naming the first problem found, in the order length, characters,
    birth date, future birth date, check character.
    """
    entry = text.strip().removesuffix("#").strip()
    if len(entry) == 18:
        body, last = entry[:17], entry[17]
        if not _is_digits(body) or not (_is_digits(last) or last in _X_SPELLINGS):
            raise IdNumberError(IdProblem.CHARACTERS)
        last = "X" if last in _X_SPELLINGS else last
    elif len(entry) == 15:
        if not _is_digits(entry):
            raise IdNumberError(IdProblem.CHARACTERS)
        # Legacy numbers carry a YYMMDD date; anyone still holding one was born in the 1900s.
        body, last = entry[:6] + "19" + entry[6:], ""
    else:
        raise IdNumberError(IdProblem.LENGTH)
    if _birth_date(body) > today:
        raise IdNumberError(IdProblem.FUTURE_BIRTH_DATE)
    expected = check_character(body)
    if last and last != expected:
        raise IdNumberError(IdProblem.CHECK_CHARACTER)
    return ResidentId(body + expected)


def id_hash(key: bytes, resident_id: ResidentId | str) -> str:
    """HMAC-SHA256 (hex) of the 18-character number: the only form in which a full ID is stored.

    A plain string is validated first, so a typo cannot produce a hash that silently never matches.
    """
    if not key:
        raise ValueError("the ID-hash key is empty")
    if isinstance(resident_id, str):
        resident_id = ResidentId(resident_id.strip().upper())
    return hmac.new(key, resident_id.number.encode("ascii"), hashlib.sha256).hexdigest()


def mask_id_entry(entry: str) -> str:
    """Whatever a caller keyed for an ID number, as records and logs may show it, whatever its
    length or validity: an entry of an ID's length gets the usual mask (a keyed ``*`` shown as
    X), any other is hidden whole (its length kept), so that a number keyed one character short
    never shows more than a whole one."""
    if len(entry) == 18:
        return _mask(entry[:17] + ("X" if entry[17] in _X_SPELLINGS else entry[17]))
    if len(entry) == 15:
        return _mask(entry)
    return "*" * len(entry)


def mask_ids_in_text(text: str) -> str:
    """Replace every ID-looking run (18 or 15 characters) by its masked form; other text is kept."""
    if len(text) < _SHORTEST_ID:  # most texts masked (AMI values, log fields) hold no ID: too short
        return text
    return _ID_IN_TEXT.sub(lambda m: _mask(m.group()), text)
