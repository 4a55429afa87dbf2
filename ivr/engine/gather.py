"""Digit collection as the best IVR engines do it (VoiceXML, play_and_get_digits, Gather).

Prompts play with barge-in; the entry then runs until the terminator, ``max_digits``, or the
inter-digit time-out, keeping the digits already keyed when time runs out. Keys typed ahead
(``ivr.engine.typeahead``) come first. After ``max_digits`` a terminator pressed within
``term_timeout`` belongs to the entry; any other key is the next input's and goes back into the
buffer. Silence before the first key is a no-input, told apart from a wrong entry (no-match) by
the caller of ``read_entry``.

When no key waits, an entry ended by ``#`` whose only exit key, if any, is ``#`` is heard in one
listen from its prompt on (``CallPort.entry``: Asterisk's ``GET DATA <prompt>``): the first key
stops the prompt and the rest follow with no gap between commands, however slow the server is to
answer. A listen waits the inter-digit time-out for the first key too; when it hears nothing, the
rest of the first-key time-out is waited as below.

Otherwise the first key is read alone (from the buffer, or one wait with the first-key time-out),
so an exit key leaves at once and silence stays a no-input. Once the buffer is empty, an entry
ended by ``#`` reads the rest of its keys in one listen (``CallPort.keys_until_hash``: ``GET DATA
""``), with the inter-digit time-out and the digits it may still take: one round trip replaces one
per key, but a key pressed within the round trip after the first is lost. Keys heard in one
listen are taken one by one exactly as single keys are: a key not allowed ends the entry (the keys
after it are dropped, as a failure drops type-ahead), ``#`` ends it, the last digit allowed ends
it (then the wait for a trailing ``#``), silence ends it keeping the digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ivr.engine.typeahead import TypeAhead

# The one key that ends a port's listen for the rest of an entry (GET DATA's only terminator).
HASH = "#"

Ending = Literal["no_input", "terminator", "max", "timeout", "exit", "bad_key"]


@dataclass(frozen=True)
class Entry:
    digits: str
    ending: Ending


async def read_entry(
    keys: TypeAhead,
    *,
    allowed: str,
    max_digits: int,
    terminator: str,
    exit_keys: str,
    first_timeout: float,
    inter_timeout: float,
    term_timeout: float,
    sensitive: bool,
    heard: str | None = None,
) -> Entry:
    """Read one entry. ``sensitive``: the port keeps the keys out of its logs. ``heard``: what
    the port's listen from the prompt on returned (``CallPort.entry``); None: no such listen."""
    # keys read in one listen, not taken yet; None: time ran out
    run = _then_time_out(heard) if heard else []
    if run:
        key = run.pop(0)
    else:
        if heard == "":  # silent through the listen's inter-digit wait: the rest of the first
            first_timeout -= inter_timeout
        key = (
            await keys.key(first_timeout, first=True, sensitive=sensitive)
            if first_timeout > 0
            else None
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
                # reach the next input as a wrong key (VoiceXML's termtimeout); any other key
                # is the next input's, keyed ahead.
                extra = await keys.key(term_timeout, first=False, sensitive=sensitive)
                if extra is not None and extra != terminator:
                    keys.unread(extra)
            return Entry(digits, "max")
        if not run and not keys.waiting and terminator == HASH:
            run = await _rest(keys, inter_timeout, max_digits - len(digits), sensitive)
        if run:
            next_key = run.pop(0)
        else:
            next_key = await keys.key(inter_timeout, first=False, sensitive=sensitive)
        if next_key is None:
            return Entry(digits, "timeout")
        key = next_key


def listens_through(terminator: str, exit_keys: str) -> bool:
    """Whether an entry can be heard in one listen from its prompt on: ``#`` ends it (the
    listen's only terminator) and no other key leaves it at once (a listen takes every key)."""
    return terminator == HASH and all(key == HASH for key in exit_keys)


async def _rest(keys: TypeAhead, seconds: float, most: int, sensitive: bool) -> list[str | None]:
    """The rest of the entry as the port reads it in one listen, as the single keys it stands
    for."""
    return _then_time_out(await keys.port.keys_until_hash(seconds, most, sensitive=sensitive))


def _then_time_out(got: str) -> list[str | None]:
    """A listen's keys as single keys, then a time-out (None), reached only when neither ``#``
    nor the last digit allowed ended the entry first."""
    return [*got, None]
