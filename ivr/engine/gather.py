"""Digit collection as the best IVR engines do it (VoiceXML, play_and_get_digits, Gather).

Prompts play with barge-in; the entry then runs until the terminator, ``max_digits``, or the
inter-digit time-out, keeping the digits already keyed when time runs out. After ``max_digits``
a terminator pressed within ``term_timeout`` belongs to the entry. Silence before the
first key is a no-input, told apart from a wrong entry (no-match) by the caller of ``read_entry``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ivr.engine.port import CallPort

Ending = Literal["no_input", "terminator", "max", "timeout", "exit", "bad_key"]


@dataclass(frozen=True)
class Entry:
    digits: str
    ending: Ending


async def read_entry(
    port: CallPort,
    first_key: str | None,
    *,
    allowed: str,
    max_digits: int,
    terminator: str,
    exit_keys: str,
    first_timeout: float,
    inter_timeout: float,
    term_timeout: float = 0.0,
    sensitive: bool = False,
) -> Entry:
    """Read one entry; ``first_key`` is a key that already interrupted the prompts.
    ``sensitive``: the port keeps the keys out of its logs."""
    key = (
        first_key
        if first_key is not None
        else await port.wait_digit(first_timeout, first=True, sensitive=sensitive)
    )
    if key is None:
        return Entry("", "no_input")
    if key in exit_keys:
        return Entry(key, "exit")
    digits = ""
    while True:
        if terminator and key == terminator:
            return Entry(digits, "terminator" if digits else "no_input")
        if key not in allowed:
            return Entry(digits + key, "bad_key")
        digits += key
        if len(digits) >= max_digits:
            if terminator and term_timeout > 0:
                # Swallow the terminator a caller presses after a full entry, so it does not
                # interrupt the next prompt as a wrong key (VoiceXML's termtimeout).
                extra = await port.wait_digit(term_timeout, first=False, sensitive=sensitive)
                if extra is not None and extra != terminator:
                    return Entry(digits + extra, "bad_key")
            return Entry(digits, "max")
        next_key = await port.wait_digit(inter_timeout, first=False, sensitive=sensitive)
        if next_key is None:
            return Entry(digits, "timeout")
        key = next_key
