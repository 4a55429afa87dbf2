"""New social-security card numbers: 9 characters, upper-case letters and digits, ending in digits.

Real numbers vary by province (some start with a letter); the last 4 characters, the part read back
to a caller, are always digits here.
"""

from __future__ import annotations

import random
import secrets

__all__ = ["new_card_number"]

_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O: they read as 1 and 0


def new_card_number(rng: random.Random | None = None) -> str:
    rng = rng or secrets.SystemRandom()
    letters = rng.choice((0, 0, 1, 1, 2))
    head = "".join(rng.choice(_LETTERS) for _ in range(letters))
    return head + "".join(str(rng.randrange(10)) for _ in range(9 - letters))
