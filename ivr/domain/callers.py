"""The calling number as the hotline may keep it: a keyed hash (HMAC-SHA256 with the key of the
ID hash), never the number, to remember a caller's language for their next call.

Numbers are compared by their digits in China's domestic form, so the same phone matches
whether the network sends ``+8613800000000``, ``008613800000000`` or ``13800000000`` (a landline
``+862088886666`` is ``02088886666``). A withheld or unusable number (``anonymous``, a few
digits) has no hash: nothing is remembered for it.
"""

from __future__ import annotations

import hashlib
import hmac
import re

__all__ = ["number_hash", "number_key"]

MIN_DIGITS = 5  # shorter is an internal extension or a placeholder, not a caller's number
# China's country code before a mobile number (1 and ten digits) or a landline (area code and
# number, nine to eleven digits, without the trunk 0).
_INTERNATIONAL = re.compile(r"(?:00)?86(?:(?P<mobile>1\d{10})|(?P<landline>[2-9]\d{8,10}))")


def number_key(number: str) -> str | None:
    """The digits a calling number is known by, or None when it is withheld or unusable."""
    digits = "".join(char for char in number if char.isdigit())
    if len(digits) < MIN_DIGITS:
        return None
    found = _INTERNATIONAL.fullmatch(digits)
    if found is None:
        return digits
    return found["mobile"] or "0" + found["landline"]


def number_hash(key: bytes, number: str) -> str | None:
    """HMAC-SHA256 (hex) of the number's digits; None when it has none worth keeping."""
    if not key:
        raise ValueError("the hash key is empty")
    digits = number_key(number)
    if digits is None:
        return None
    return hmac.new(key, b"caller:" + digits.encode("ascii"), hashlib.sha256).hexdigest()
