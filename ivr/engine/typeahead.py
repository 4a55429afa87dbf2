"""The type-ahead buffer: keys a caller presses before the input that takes them.

As VoiceXML's type-ahead buffer: keys pressed during any prompt (a read-back, a confirmation, the
greeting) or between two inputs wait in order, and the next input takes them first, so a caller
who knows the way keys ``1``, the ID number, ``#``, the password, ``#``, ``1`` without waiting for
a single prompt. A prompt that asks for input is not played at all when keys are waiting.

After a failure (a wrong entry, silence, an entry a check refused) the waiting keys are
discarded, and so are keys pressed until the next input starts: they were keyed for a path the
call no longer takes (a password keyed ahead of an ID number that turned out wrong must not land
in a menu). Discarded keys are never shown anywhere.

The port reports the keys pressed while it played (``CallPort.play``); this buffer decides which
input they belong to. Keys are never logged here; the engine shows an entry as the node that
takes it says (``Collect.privacy``).
"""

from __future__ import annotations

from collections.abc import Sequence

from ivr.engine.port import CallPort

__all__ = ["MAX_KEYS", "TypeAhead"]

# A phone's keys come at most a few a second; a longer run is a stuck key or a flood.
MAX_KEYS = 64


class TypeAhead:
    """One call's keys in front of its port."""

    def __init__(self, port: CallPort) -> None:
        self.port = port
        self._keys = ""
        self._stale = False  # keys are dropped until the next input starts

    @property
    def waiting(self) -> int:
        """How many keys wait (never which)."""
        return len(self._keys)

    async def play(self, sounds: Sequence[str], interrupt: str, *, sensitive: bool = False) -> None:
        """Play ``sounds``; keys pressed meanwhile wait for the next input, one in ``interrupt``
        stops the playback. A prompt that can be interrupted is skipped when keys already wait:
        the caller has answered it."""
        if self._keys and interrupt:
            return
        pressed = await self.port.play(sounds, interrupt, sensitive=sensitive)
        self._add(pressed)

    async def entry(
        self, sounds: Sequence[str], seconds: float, most: int, *, sensitive: bool
    ) -> str | None:
        """An entry heard in one listen from its prompt on (``CallPort.entry``), when no key
        waits for it; None: keys wait, and the entry takes them first (its prompt unplayed)."""
        if self._keys:
            return None
        return await self.port.entry(sounds, seconds, most, sensitive=sensitive)

    def start_input(self) -> None:
        """A new input starts (a menu, an entry): keys pressed from now on are its own."""
        self._stale = False

    async def key(self, seconds: float, *, first: bool, sensitive: bool = False) -> str | None:
        """The oldest waiting key, or one pressed within ``seconds`` (None: none was)."""
        if self._keys:
            key, self._keys = self._keys[0], self._keys[1:]
            return key
        return await self.port.wait_digit(seconds, first=first, sensitive=sensitive)

    def unread(self, key: str) -> None:
        """Put a key back in front: it was read for an entry already complete, and belongs to the
        next input (VoiceXML leaves keys beyond ``maxdigits`` in the buffer)."""
        self._keys = (key + self._keys)[:MAX_KEYS]

    def discard(self) -> None:
        """Forget the waiting keys, and those pressed until the next input starts."""
        self._keys = ""
        self._stale = True

    def _add(self, pressed: str) -> None:
        if pressed and not self._stale:
            self._keys = (self._keys + pressed)[:MAX_KEYS]
