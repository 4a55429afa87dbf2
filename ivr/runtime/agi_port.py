"""The engine's CallPort over an Asterisk FastAGI channel.

Prompts are played by key as ``hotline/<key>``: Asterisk finds ``sounds/<lang>/hotline/<key>.*``
from the channel language, which ``set_language`` sets.

How keys typed ahead reach the hotline (``ivr.engine.typeahead``). Asterisk hands the AGI a key
only while a command listens for it: ``STREAM FILE`` returns the first of its escape digits the
caller presses (and drops the others), ``WAIT FOR DIGIT`` and ``GET DATA`` read keys after a
prompt, and between two commands res_agi's ``run_agi`` loop reads the channel's frames and frees
them, DTMF included. So every prompt is streamed with all twelve keys as escape digits. A key the
prompt takes (barge-in) ends it as before; any other key ends ``STREAM FILE`` too, with the
position reached (``endpos``), and the port streams the same file on from there (``STREAM FILE``'s
sample offset): the caller hears the prompt through, with a break of one AGI round trip, and the
key waits for the next input. An entry is heard with its prompt in one ``GET DATA <prompt>``
(``entry``): the first key stops the prompt and the command listens on from key to key, so an ID
number costs one command (two with the wait for a trailing ``#``), and a server slower to answer
than the caller's key spacing loses no key of it. Several prompts before an entry (a reason, then
the question) are joined into one sound for it; when they cannot be, all but the last are
streamed, and a key that stops one of those is followed by a ``GET DATA ""`` for the rest
(``keys_until_hash``). An entry whose prompt already played (keys waited for it, or a first key
that may leave it at once, read by ``WAIT FOR DIGIT``) is read that way too. What is left
uncovered is the server's own work between two commands: after a prompt that is not an entry's,
after a first key read alone (one round trip, no database work), after an entry (tens of
milliseconds for the password's argon2 check, which starts when the caller presses ``#`` or the
sixth digit). A key pressed in such a window is lost, and a phone's keys come a quarter of a
second or more apart.

``GET DATA`` as Asterisk 22 runs it (``res/res_agi.c`` ``handle_getdata``, ``main/app.c``
``ast_app_getdata_full``, ``main/channel.c`` ``ast_readstring_full``), the facts the port relies
on: ``GET DATA "" <ms> <n>`` plays nothing (an empty file name is skipped; res_agi's argument
parser keeps ``""`` as an empty argument) and waits ``<ms>`` for each key, the first one included
(the 6 s / 2 s defaults apply only to a time-out of 0); ``#`` is its only terminator and is not
returned; every other DTMF key (``*``, A-D) is kept as a digit; it returns after ``<n>`` keys. The
reply is ``200 result=<keys>`` after ``#`` or ``<n>`` keys (``200 result=`` for a ``#`` alone),
``200 result=<keys> (timeout)`` when time ran out (the keys so far kept), and ``200 result=-1``
when the caller hung up (the keys so far lost), which the channel turns into AGIHangup. So fewer
than ``<n>`` keys without ``(timeout)`` means ``#`` ended them, which the port reports as a
trailing ``#``. The keys are a secret entry's when ``sensitive``: the channel's debug log then
shows neither the reply nor the arguments (``GET DATA *** *** ***``).

Several prompts in a row (the greeting, a balance read back as ``pension_balance_is d3 n_shi ...
u_fen keys_hint``) are one sound: AGI streams one file per command, so the prompts are joined
into one file (``ivr.prompts.joined``, given as ``joined``) and played with one ``STREAM FILE``,
type-ahead and barge-in as above, on the joined file's ``endpos``. When no joined sound can be
made (a fragment missing, the folder not writable) or Asterisk cannot open it (a call taken over
from another node's Asterisk, which sees another prompt folder), the prompts are streamed one by
one, and the call stops trying to join.

Keys pressed during a prompt that does not take them may belong to a secret entry to come, so
such prompts are streamed as sensitive: the AGI debug log shows neither their arguments nor the
key (``***``), as for the prompts of a password or an ID number.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Protocol

from ivr.agi.channel import AGIChannel
from ivr.agi.errors import AGICommandError, AGIConnectionLost, AGIHangup, AGIProtocolError
from ivr.config import Settings
from ivr.engine.model import ALL_KEYS
from ivr.engine.port import CallerHungUp, ChannelLost, Recording
from ivr.engine.typeahead import MAX_KEYS

SAMPLE_RATE = 8000  # RECORD FILE reports its end position in 8 kHz samples for wav


@asynccontextmanager
async def _hangup_as_caller_gone() -> AsyncIterator[None]:
    """The channel's ends in the engine's words: a hang-up, or a line out of step (no reply in
    time, a reply too long or not AGI: the channel writes nothing more)."""
    try:
        yield
    except AGIConnectionLost as exc:  # Asterisk went away under the caller: not their choice
        raise ChannelLost(str(exc)) from exc
    except AGIHangup as exc:
        raise CallerHungUp(str(exc)) from exc
    except AGIProtocolError as exc:
        raise ChannelLost(str(exc)) from exc


class SoundJoiner(Protocol):
    """Prompts joined into one sound (``ivr.prompts.joined.JoinedPrompts``)."""

    async def sound(self, language: str, keys: Sequence[str], audio: str = "") -> str | None:
        """The joined sound's name under the prompt folder, for a channel of native ``audio``
        formats (empty: not known); None: play them one by one."""

    def unplayable(self, language: str) -> None:
        """Asterisk could not open a joined sound of ``language`` it was given."""


class AgiPort:
    def __init__(
        self, channel: AGIChannel, settings: Settings, *, joined: SoundJoiner | None = None
    ) -> None:
        self.channel = channel
        self.settings = settings
        self._joiner = joined  # None: every prompt is streamed on its own
        # The channel's native audio formats, from the dialplan (?audio= on the AGI URL): the
        # joined sounds are written in the one format it plays.
        self._audio = channel.script_args.get("audio", "")

    async def set_language(self, language: str) -> None:
        async with _hangup_as_caller_gone():
            await self.channel.set_language(language)

    async def play(self, sounds: Sequence[str], interrupt: str, *, sensitive: bool = False) -> str:
        hidden = sensitive or any(key not in interrupt for key in ALL_KEYS)
        pressed: list[str] = []
        async with _hangup_as_caller_gone():
            if joined := await self._joined(sounds):
                try:
                    await self._stream(joined, interrupt, hidden, pressed)
                    return "".join(pressed)
                except AGICommandError:  # not in the folder this Asterisk sees: one by one,
                    self._unplayable()  # from the first prompt (keys pressed kept)
            for sound in sounds:
                if await self._stream(sound, interrupt, hidden, pressed):
                    break
        return "".join(pressed)

    async def _joined(self, sounds: Sequence[str]) -> str | None:
        """The sounds' joined sound, when there are several and they can be joined."""
        if self._joiner is None or len(sounds) < 2:
            return None
        return await self._joiner.sound(self.channel.language, sounds, self._audio)

    def _unplayable(self) -> None:
        """Asterisk could not open a joined sound: this call plays prompts one by one."""
        if self._joiner is not None:
            self._joiner.unplayable(self.channel.language)
            self._joiner = None

    async def _stream(self, sound: str, interrupt: str, hidden: bool, pressed: list[str]) -> bool:
        """Stream one sound to its end (False) or to a key in ``interrupt`` (True); other keys
        are added to ``pressed`` and the sound goes on from where the key stopped it."""
        offset = 0
        while True:
            # Every key ends STREAM FILE; past MAX_KEYS (a stuck key) only the prompt's own do.
            listen = ALL_KEYS if len(pressed) < MAX_KEYS else interrupt
            digit, endpos = await self.channel.stream_file(
                f"hotline/{sound}", listen, offset=offset, sensitive=hidden
            )
            if digit is None:
                return False
            pressed.append(digit)
            if digit in interrupt:
                return True
            offset = endpos

    async def wait_digit(
        self, seconds: float, *, first: bool, sensitive: bool = False
    ) -> str | None:
        async with _hangup_as_caller_gone():
            return await self.channel.wait_for_digit(int(seconds * 1000), sensitive=sensitive)

    async def entry(
        self, sounds: Sequence[str], seconds: float, most: int, *, sensitive: bool = False
    ) -> str:
        if joined := await self._joined(sounds):
            try:
                return await self._get_data(f"hotline/{joined}", seconds, most, sensitive)
            except AGICommandError:  # Asterisk could not open it: nothing played, no key taken
                self._unplayable()
        *before, last = sounds
        if before:  # GET DATA plays one file: the prompts before the last are streamed
            pressed = await self.play(before, ALL_KEYS, sensitive=True)
            if pressed == "#" or (pressed and most == 1):
                return pressed
            if pressed:  # the rest after a round trip, as an entry's first key read alone
                return pressed + await self.keys_until_hash(seconds, most - 1, sensitive=sensitive)
        return await self._get_data(f"hotline/{last}", seconds, most, sensitive)

    async def keys_until_hash(self, seconds: float, most: int, *, sensitive: bool = False) -> str:
        return await self._get_data("", seconds, most, sensitive)

    async def _get_data(self, sound: str, seconds: float, most: int, sensitive: bool) -> str:
        async with _hangup_as_caller_gone():
            keys, timed_out = await self.channel.get_data(
                sound, int(seconds * 1000), most, sensitive=sensitive
            )
        return keys if timed_out or len(keys) >= most else keys + "#"

    async def record(
        self, name: str, *, max_seconds: int, terminator: str, silence_seconds: int
    ) -> Recording | None:
        local = self.settings.recordings_dir / f"{name}.wav"
        await asyncio.to_thread(local.parent.mkdir, parents=True, exist_ok=True)
        seen_by_asterisk = (
            Path(self.settings.asterisk_recordings_dir or self.settings.recordings_dir.resolve())
            / name
        )
        async with _hangup_as_caller_gone():
            result = await self.channel.record_file(
                str(seen_by_asterisk),
                "wav",
                terminator,
                max_seconds * 1000,
                beep=True,
                silence_s=silence_seconds,
            )
        duration = (result.endpos or 0) / SAMPLE_RATE
        if duration <= 0:
            return None
        return Recording(path=local, duration_s=duration, ended_by=result.ended_by)

    async def set_variable(self, name: str, value: str) -> None:
        async with _hangup_as_caller_gone():
            await self.channel.set_variable(name, value)
