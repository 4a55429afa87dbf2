"""espeak-ng: the offline engine. Robotic, but it needs nothing beyond a Debian package."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from ivr.prompts.pinyin import Readings, to_tone_pinyin
from ivr.prompts.proc import ToolError, run_tool
from ivr.prompts.tts import TtsError

__all__ = ["EspeakEngine", "EspeakVoice", "known_voices"]


@dataclass(frozen=True)
class EspeakVoice:
    voice: str
    words_per_minute: int
    pitch: int = 50  # espeak-ng's default


# Slightly slower than espeak-ng's 175 wpm: callers listen on a narrow phone line.
DEFAULT_VOICES: dict[str, EspeakVoice] = {
    "zh": EspeakVoice("cmn-latn-pinyin", 150),
    "en": EspeakVoice("en-us", 155),
    "es": EspeakVoice("es", 155),
}

# espeak-ng silently falls back to its default voice for an unknown name, so names are checked
# against its own list (read once per binary) instead of trusting its exit status.
_known_voices: dict[str, frozenset[str]] = {}


async def known_voices(binary: str = "espeak-ng") -> frozenset[str]:
    """The names ``-v`` takes: languages and voice files (``en-us``, ``sit/cmn-latn-pinyin``)."""
    if binary not in _known_voices:
        try:
            listing = await run_tool(binary, "--voices")
        except ToolError as exc:
            raise TtsError(str(exc)) from exc
        names: set[str] = set()
        for line in listing.decode(errors="replace").splitlines()[1:]:
            columns = line.split()
            if len(columns) >= 5:
                names.update((columns[1].lower(), columns[4].lower()))
        _known_voices[binary] = frozenset(names)
    return _known_voices[binary]


def _has_samples(wav: Path) -> bool:
    return wav.exists() and wav.stat().st_size > 44  # more than a bare wav header


@dataclass(frozen=True)
class EspeakEngine:
    name: str = "espeak"
    voices: dict[str, EspeakVoice] = field(default_factory=lambda: dict(DEFAULT_VOICES))
    binary: str = "espeak-ng"
    readings: Readings | None = None  # Mandarin corrections; None: prompts/pinyin.yaml

    def voice(self, lang: str) -> EspeakVoice:
        try:
            return self.voices[lang]
        except KeyError:
            raise TtsError(f"espeak-ng: no voice configured for language {lang!r}") from None

    def prepare_text(self, text: str, lang: str) -> str:
        """What espeak-ng is given: tone-numbered pinyin for Mandarin, the text itself otherwise."""
        return to_tone_pinyin(text, self.readings) if lang == "zh" else text

    def settings_fingerprint(self, lang: str) -> str:
        # The pinyin itself is hashed with each prompt (``prepare_text``), so a new pypinyin or
        # a corrected reading rebuilds exactly the prompts that now sound different.
        voice = self.voice(lang)
        parts = [f"voice={voice.voice}", f"wpm={voice.words_per_minute}", f"pitch={voice.pitch}"]
        return f"{self.name}:" + ",".join(parts)

    async def synthesize(self, text: str, lang: str, out_wav: Path) -> None:
        voice = self.voice(lang)
        if voice.voice.split("+")[0].lower() not in await known_voices(self.binary):
            raise TtsError(f"espeak-ng has no voice {voice.voice!r} (see espeak-ng --voices)")
        spoken = await asyncio.to_thread(self.prepare_text, text, lang)  # the readings file
        if not spoken.strip():
            raise TtsError(f"espeak-ng: nothing to say for {text!r}")
        # Text goes through stdin so a prompt starting with "-" is never read as an option.
        argv = (
            self.binary,
            "-v",
            voice.voice,
            "-s",
            str(voice.words_per_minute),
            "-p",
            str(voice.pitch),
            "-w",
            str(out_wav),
            "--stdin",
        )
        try:
            await run_tool(*argv, stdin=spoken.encode())
        except ToolError as exc:
            raise TtsError(str(exc)) from exc
        if not _has_samples(out_wav):
            raise TtsError(f"espeak-ng produced no audio for {text!r}")
