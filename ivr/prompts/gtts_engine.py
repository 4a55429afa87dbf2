"""gTTS: Google Translate's voices. Far more natural than espeak-ng, but it needs the network.

gTTS blocks and writes MP3, so it runs in a thread, and ffmpeg decodes the MP3. Offline it raises
after leaving a 0-byte file, so it writes to a temporary name that is renamed only on success.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from pathlib import Path

import gtts

from ivr.prompts.pinyin import spoken_chinese
from ivr.prompts.proc import ToolError, run_tool
from ivr.prompts.tts import TtsError

__all__ = ["GttsEngine", "GttsVoice"]


@dataclass(frozen=True)
class GttsVoice:
    lang: str
    tld: str = "com"  # the Google host; it picks the accent for some languages


# "zh" is gTTS's Mandarin (mainland); its old name "zh-CN" only warns as deprecated.
DEFAULT_VOICES: dict[str, GttsVoice] = {
    "zh": GttsVoice("zh"),
    "en": GttsVoice("en"),
    "es": GttsVoice("es", tld="es"),
}
REQUEST_TIMEOUT_S = 15.0
# Google answers a burst with 429 now and then; a short wait and another try usually passes.
ATTEMPTS = 3
RETRY_DELAY_S = 2.0
# Google throttles bursts; a few requests at a time is plenty for a few hundred prompts.
MAX_PARALLEL_REQUESTS = 4


@dataclass(frozen=True)
class GttsEngine:
    name: str = "gtts"
    voices: dict[str, GttsVoice] = field(default_factory=lambda: dict(DEFAULT_VOICES))
    timeout: float = REQUEST_TIMEOUT_S
    attempts: int = ATTEMPTS
    retry_delay_s: float = RETRY_DELAY_S
    _requests: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(MAX_PARALLEL_REQUESTS), repr=False
    )

    def voice(self, lang: str) -> GttsVoice:
        try:
            return self.voices[lang]
        except KeyError:
            raise TtsError(f"gTTS: no voice configured for language {lang!r}") from None

    def settings_fingerprint(self, lang: str) -> str:
        voice = self.voice(lang)
        return f"{self.name}:lang={voice.lang},tld={voice.tld},gtts={gtts.__version__}"

    def prepare_text(self, text: str, lang: str) -> str:
        """Google reads characters in context itself; it is only told to say 1 as 幺 in digits."""
        return spoken_chinese(text) if lang == "zh" else text

    async def synthesize(self, text: str, lang: str, out_wav: Path) -> None:
        voice = self.voice(lang)
        mp3 = out_wav.with_suffix(".mp3")
        for attempt in range(1, self.attempts + 1):
            try:
                async with self._requests:
                    await asyncio.to_thread(
                        self.save_mp3, self.prepare_text(text, lang), voice, mp3
                    )
                break
            except TtsError:
                if attempt == self.attempts:
                    raise
                await asyncio.sleep(self.retry_delay_s * attempt)
        try:
            await run_tool(
                "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                "-i", str(mp3), "-ac", "1", "-c:a", "pcm_s16le", str(out_wav),
            )  # fmt: skip
        except ToolError as exc:
            raise TtsError(f"gTTS: could not decode its MP3: {exc}") from exc

    def save_mp3(self, text: str, voice: GttsVoice, mp3: Path) -> None:
        """Blocking: fetch the speech into ``mp3``, which exists afterwards only if complete."""
        partial = mp3.with_name(mp3.name + ".part")
        try:
            gtts.gTTS(text, lang=voice.lang, tld=voice.tld, timeout=self.timeout).save(partial)
            if partial.stat().st_size == 0:
                raise TtsError("gTTS returned no audio")
            os.replace(partial, mp3)
        except (gtts.gTTSError, OSError, ValueError) as exc:
            raise TtsError(f"gTTS failed: {exc}") from exc
        finally:
            partial.unlink(missing_ok=True)
