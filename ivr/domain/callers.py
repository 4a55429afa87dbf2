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
from dataclasses import dataclass
from datetime import datetime

from ivr.domain.retention import RetentionPolicy

__all__ = ["LanguageMemory", "Recall", "number_hash", "number_key"]

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


@dataclass(frozen=True)
class Recall:
    """What a call looks its caller's language up by: the number's hash, and the oldest use of
    a choice still remembered (choices unused since are forgotten)."""

    number_hash: str
    since: datetime


@dataclass(frozen=True)
class LanguageMemory:
    """Callers' language choices as the retention policy keeps them (``language_memory``)."""

    key: bytes
    policy: RetentionPolicy

    def number(self, caller_id: str) -> str | None:
        """The hash a choice from this number is kept by; None when none is kept (the number
        is withheld, or no choice is remembered)."""
        if not self.policy.remembers_languages:
            return None
        return number_hash(self.key, caller_id)

    def recall(self, caller_id: str, now: datetime) -> Recall | None:
        """How a call from ``caller_id`` starting ``now`` finds its remembered language."""
        number = self.number(caller_id)
        if number is None:
            return None
        return Recall(number, self.policy.languages_used_before(now))
