"""What the engine needs from a call: play sounds, take keys, record, leave variables.

The Asterisk adapter (``ivr.runtime.agi_port``) and the console simulator (``ivr.sim``) implement
``CallPort``; the engine never sees AGI. Whatever the channel, a caller hanging up surfaces as the
one exception ``CallerHungUp``; a line that stops answering or answers nonsense, as
``ChannelLost``.

``sensitive``: the keys read by this call are part of an entry kept out of logs (a password, an
ID number); the port must not log them in any form (the AGI debug log included). Keys pressed
during a prompt that does not take them (``interrupt``) are type-ahead for inputs to come, which
may be secret: the port keeps those out of its logs too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class CallerHungUp(Exception):
    """The caller has gone: nothing more can be played or asked on this call."""


class ChannelLost(Exception):
    """The telephony side stopped answering in time, or answered out of step: nothing more can be
    said on this channel. The call ends as interrupted; the dialplan's fallback takes the caller
    on once the connection closes."""


@dataclass(frozen=True)
class Recording:
    path: Path  # as the hotline reads it (under the data folder)
    duration_s: float
    ended_by: str  # "dtmf" | "timeout" | "silence" | "hangup" | "max"


class CallPort(Protocol):
    async def set_language(self, language: str) -> None: ...

    async def play(self, sounds: Sequence[str], interrupt: str, *, sensitive: bool = False) -> str:
        """Play prompt keys in order; return the keys the caller pressed meanwhile, in order ("":
        none). A key in ``interrupt`` stops the playback; any other key does not (the prompt goes
        on where it was) and waits, with the others, for the inputs that follow."""

    async def wait_digit(
        self, seconds: float, *, first: bool, sensitive: bool = False
    ) -> str | None:
        """One key, or None after ``seconds``. ``first``: the first key of a new entry."""

    async def entry(
        self, sounds: Sequence[str], seconds: float, most: int, *, sensitive: bool = False
    ) -> str:
        """Play ``sounds``, any key stopping them, and hear an entry in the same listen: keys
        until ``#``, ``most`` keys, or ``seconds`` without a key (the first counted from the
        prompts' end), none lost between two of them. Returned as ``keys_until_hash`` returns
        them ("": no key at all)."""

    async def keys_until_hash(self, seconds: float, most: int, *, sensitive: bool = False) -> str:
        """The rest of an entry whose first key was read, in one listen: keys until ``#``,
        ``most`` keys, or ``seconds`` without a key (before the first of them too), no key lost
        between two of them. ``#`` ends the string when it ended the keys (it is never among
        them); fewer than ``most`` keys and no ``#``: time ran out."""

    async def record(
        self, name: str, *, max_seconds: int, terminator: str, silence_seconds: int
    ) -> Recording | None:
        """Record the caller under ``name`` (no extension); None when nothing usable was said."""

    async def set_variable(self, name: str, value: str) -> None: ...
