"""The engine's CallPort over an Asterisk FastAGI channel.

Prompts are played by key as ``hotline/<key>``: Asterisk finds ``sounds/<lang>/hotline/<key>.*``
from the channel language, which ``set_language`` sets.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from ivr.agi.channel import AGIChannel
from ivr.agi.errors import AGIConnectionLost, AGIHangup, AGIProtocolError
from ivr.config import Settings
from ivr.engine.port import CallerHungUp, ChannelLost, Recording

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


class AgiPort:
    def __init__(self, channel: AGIChannel, settings: Settings) -> None:
        self.channel = channel
        self.settings = settings

    async def set_language(self, language: str) -> None:
        async with _hangup_as_caller_gone():
            await self.channel.set_language(language)

    async def play(
        self, sounds: Sequence[str], interrupt: str, *, sensitive: bool = False
    ) -> str | None:
        async with _hangup_as_caller_gone():
            for sound in sounds:
                digit, _ = await self.channel.stream_file(
                    f"hotline/{sound}", interrupt, sensitive=sensitive
                )
                if digit is not None:
                    return digit
        return None

    async def wait_digit(
        self, seconds: float, *, first: bool, sensitive: bool = False
    ) -> str | None:
        async with _hangup_as_caller_gone():
            return await self.channel.wait_for_digit(int(seconds * 1000), sensitive=sensitive)

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
