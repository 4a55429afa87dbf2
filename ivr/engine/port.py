"""What the engine needs from a call: play sounds, take keys, record, leave variables.

The Asterisk adapter (``ivr.runtime.agi_port``) and the console simulator (``ivr.sim``) implement
``CallPort``; the engine never sees AGI. Whatever the channel, a caller hanging up surfaces as the
one exception ``CallerHungUp``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class CallerHungUp(Exception):
    """The caller has gone: nothing more can be played or asked on this call."""


@dataclass(frozen=True)
class Recording:
    path: Path  # as the hotline reads it (under the data folder)
    duration_s: float
    ended_by: str  # "dtmf" | "timeout" | "silence" | "hangup" | "max"


class CallPort(Protocol):
    async def set_language(self, language: str) -> None: ...

    async def play(self, sounds: Sequence[str], interrupt: str) -> str | None:
        """Play prompt keys in order; a key in ``interrupt`` stops playback and is returned."""

    async def wait_digit(self, seconds: float, *, first: bool) -> str | None:
        """One key, or None after ``seconds``. ``first``: the first key of a new entry."""

    async def record(
        self, name: str, *, max_seconds: int, terminator: str, silence_seconds: int
    ) -> Recording | None:
        """Record the caller under ``name`` (no extension); None when nothing usable was said."""

    async def set_variable(self, name: str, value: str) -> None: ...
