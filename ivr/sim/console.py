"""A CallPort for the terminal: prints what the caller would hear, takes keys typed or scripted.

Keys come as entries, one per input the flow asks for: ``"1"``, ``"11010519491231002*#"``,
``"-"`` for silence. An entry is taken when the flow starts waiting for a new input (never while a
prompt plays), so a script does not depend on how long prompts are: the same rule as the AGI
test peer and ``hotline call``. An entry may hold more keys than its input takes: the rest are
keyed ahead, during the prompts that follow, as a practised caller does (``"1110105...*#231002#1"``
keys a whole balance query at once). For a recording, the entry is how many seconds the caller
speaks (``-`` or ``0``: says nothing).
"""

from __future__ import annotations

import asyncio
import math
import struct
import wave
from collections.abc import Callable, Sequence
from pathlib import Path

from ivr.engine.port import CallerHungUp, Recording
from ivr.speech.catalog import Catalog

SILENCE = "-"


def parse_keys(script: str) -> list[str]:
    """``"-,1,11010519491231002*#"`` -> ``["-", "1", "11010519491231002*#"]``."""
    return [entry.strip() for entry in script.split(",")] if script.strip() else []


class ConsolePort:
    def __init__(
        self,
        catalog: Catalog,
        recordings_dir: Path,
        *,
        entries: Sequence[str] | None = None,
        ask: Callable[[str], str] | None = None,
        say: Callable[[str], None] = print,
    ) -> None:
        self.catalog = catalog
        self.recordings_dir = recordings_dir
        self.language = "zh"
        self.entries = list(entries) if entries is not None else None
        self.ask = ask or input
        self.say = say
        self.buffer = ""
        self.heard: list[str] = []  # every sound key played, in order
        self.variables: dict[str, str] = {}

    async def set_language(self, language: str) -> None:
        self.language = language

    async def play(self, sounds: Sequence[str], interrupt: str, *, sensitive: bool = False) -> str:
        pressed, self.buffer = self.buffer, ""  # the rest of an entry: keyed during the prompt
        if not (pressed and interrupt and pressed[0] in interrupt) and sounds:
            self.heard.extend(sounds)
            self.say("♪ " + self.catalog.render(self.language, sounds))
        return pressed

    async def wait_digit(
        self, seconds: float, *, first: bool, sensitive: bool = False
    ) -> str | None:
        if not self.buffer and first:
            entry = await self._next_entry("keys> ", sensitive=sensitive)
            self.buffer = "" if entry == SILENCE else entry
        return self._pop() if self.buffer else None

    async def entry(
        self, sounds: Sequence[str], seconds: float, most: int, *, sensitive: bool = False
    ) -> str:
        if not self.buffer:  # keys typed on with the last entry answer this prompt unheard
            if sounds:
                self.heard.extend(sounds)
                self.say("♪ " + self.catalog.render(self.language, sounds))
            entry = await self._next_entry("keys> ", sensitive=sensitive)
            self.buffer = "" if entry == SILENCE else entry
        return await self.keys_until_hash(seconds, most, sensitive=sensitive)

    async def keys_until_hash(self, seconds: float, most: int, *, sensitive: bool = False) -> str:
        keys = ""
        while self.buffer and len(keys) < most:
            key = self._pop()
            if key == "#":
                return keys + key
            keys += key
        return keys  # the entry's keys ran out: time runs out, or ``most`` were read

    async def record(
        self, name: str, *, max_seconds: int, terminator: str, silence_seconds: int
    ) -> Recording | None:
        entry = await self._next_entry("seconds of speech> ")
        seconds = 0.0 if entry in (SILENCE, "") else min(float(entry.rstrip("#")), max_seconds)
        if seconds <= 0:
            return None
        path = self.recordings_dir / f"{name}.wav"
        await asyncio.to_thread(write_tone, path, seconds)
        self.say(f"[recorded {seconds:.0f} s to {path}]")
        return Recording(path=path, duration_s=seconds, ended_by="dtmf")

    async def set_variable(self, name: str, value: str) -> None:
        self.variables[name] = value

    def _pop(self) -> str:
        key, self.buffer = self.buffer[0], self.buffer[1:]
        return key

    async def _next_entry(self, prompt: str, *, sensitive: bool = False) -> str:
        if self.entries is not None:
            if not self.entries:
                self.say("[script ended: the caller hangs up]")
                raise CallerHungUp("end of scripted keys")
            entry = self.entries.pop(0)
            self.say(f"{prompt}{'***' if sensitive and entry != SILENCE else entry}")
            return entry
        try:
            typed = await asyncio.to_thread(self.ask, prompt)
        except EOFError:
            raise CallerHungUp("end of input") from None
        return typed.strip() or SILENCE


def write_tone(path: Path, seconds: float, rate: int = 8000) -> None:
    """A stand-in for the caller's voice: a quiet 440 Hz tone in 8 kHz 16-bit mono WAV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = b"".join(
        struct.pack("<h", int(3000 * math.sin(2 * math.pi * 440 * i / rate)))
        for i in range(int(seconds * rate))
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
