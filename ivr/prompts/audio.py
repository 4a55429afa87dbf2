"""From any speech file to the sound files Asterisk plays: trimmed, at one loudness, resampled.

The chain, for every prompt whatever its source (engine or human recording):

1. pydub finds where speech starts and ends (silence is relative to the prompt's own peak, so a
   quiet recording is trimmed like a loud one) and measures its RMS level there;
2. one ffmpeg run high-passes (DC offset and rumble would count as loudness), resamples, cuts the
   span, applies the gain to the target, peak-limits and writes every format at once;
3. the level of the 8 kHz result is checked and, if it missed (the narrower band and the limiter
   both lower it a little), rendered again with the gain corrected.

ffmpeg starts slowly (~70 ms here), so a prompt costs one run of it, two at most in practice.
Resampling is ffmpeg's (soxr, with a proper anti-aliasing filter): pydub's ``set_frame_rate`` has
none and folds energy above 4 kHz back into the telephone band as audible aliasing.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from pydub import AudioSegment
from pydub.exceptions import CouldntDecodeError
from pydub.silence import detect_leading_silence

from ivr.prompts.proc import ToolError, run_tool

__all__ = [
    "FORMATS",
    "AudioError",
    "OutputFormat",
    "Processed",
    "Processing",
    "measure_dbfs",
    "process",
    "resample",
    "silence",
]


class AudioError(RuntimeError):
    """A source could not be turned into prompt sound files."""


@dataclass(frozen=True)
class OutputFormat:
    rate: int
    muxer: str  # ffmpeg's -f
    codec: str


# The formats Asterisk plays, by file extension. Asterisk picks the one cheapest to transcode.
FORMATS: Mapping[str, OutputFormat] = {
    "wav": OutputFormat(8000, "wav", "pcm_s16le"),
    "sln16": OutputFormat(16000, "s16le", "pcm_s16le"),
    "ulaw": OutputFormat(8000, "mulaw", "pcm_mulaw"),
}
WORK_RATE = 16000
RESAMPLER = "soxr"
# The layout is named, not only the sample format: files without a channel mask (pydub's,
# many recorders') otherwise leave ffmpeg unable to pick a layout at the outputs.
_S16_MONO = "aformat=sample_fmts=s16:channel_layouts=mono"


@dataclass(frozen=True)
class Processing:
    """Every setting of the chain; its fingerprint is part of each prompt's manifest hash."""

    target_dbfs: float = -20.0  # RMS of the 8 kHz result, the same for every prompt
    tolerance_db: float = 0.5
    peak_ceiling_dbfs: float = -1.0  # the limiter's ceiling: no clipping after resampling
    silence_below_peak_db: float = 40.0
    chunk_ms: int = 10
    pad_ms: int = 30  # kept around speech so soft onsets and endings are not clipped
    highpass_hz: int = 60
    level_passes: int = 3
    version: int = 2  # bump when the chain changes in a way these fields do not show

    def fingerprint(self) -> str:
        settings = {**asdict(self), "formats": {k: asdict(v) for k, v in FORMATS.items()}}
        return json.dumps(settings, sort_keys=True)


@dataclass(frozen=True)
class Span:
    start_ms: int
    end_ms: int
    rms_dbfs: float


@dataclass(frozen=True)
class Processed:
    duration_s: float
    level_dbfs: float
    gain_db: float


async def ffmpeg(*args: str) -> None:
    try:
        await run_tool("ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args)
    except ToolError as exc:
        raise AudioError(str(exc)) from exc


def _resampler(rate: int) -> str:
    return f"aresample={rate}:resampler={RESAMPLER}"


async def resample(src: Path, dst: Path, rate: int) -> None:
    """``src`` as 16-bit mono wav at ``rate``, through the same filter the chain uses."""
    chain = f"aformat=channel_layouts=mono,{_resampler(rate)}"
    await ffmpeg("-i", str(src), "-af", chain, "-c:a", "pcm_s16le", str(dst))


def _speech_span(src: Path, settings: Processing) -> Span:
    """Blocking (run in a thread): where speech is in ``src``, and how loud it is there."""
    try:  # pydub reads PCM wav itself and hands anything else to ffmpeg
        audio = AudioSegment.from_file(str(src)).set_channels(1).remove_dc_offset()
    except (CouldntDecodeError, IndexError, OSError) as exc:
        raise AudioError(f"cannot read {src.name}: {exc}") from exc
    if len(audio) == 0 or audio.max == 0:
        raise AudioError("the source is silent")
    threshold = audio.max_dBFS - settings.silence_below_peak_db
    lead = detect_leading_silence(audio, threshold, settings.chunk_ms)
    trail = detect_leading_silence(audio.reverse(), threshold, settings.chunk_ms)
    start = max(0, lead - settings.pad_ms)
    end = min(len(audio), len(audio) - trail + settings.pad_ms)
    return Span(start, end, audio[start:end].dBFS)


def measure_dbfs(path: Path) -> float:
    """Blocking: RMS level of a wav in dBFS (-inf when silent)."""
    return float(AudioSegment.from_wav(str(path)).dBFS)


def _render_args(
    src: Path, span: Span, gain_db: float, settings: Processing, outputs: Mapping[str, Path]
) -> list[str]:
    ceiling = 10 ** (settings.peak_ceiling_dbfs / 20)
    shared = ",".join(
        (
            "aformat=sample_fmts=dbl:channel_layouts=mono",  # gain in floating point: no clipping
            f"highpass=f={settings.highpass_hz}",  # DC offset and rumble would count as loudness
            _resampler(WORK_RATE),
            f"atrim=start={span.start_ms / 1000:.3f}:end={span.end_ms / 1000:.3f}",
            "asetpts=PTS-STARTPTS",
            f"volume={gain_db:.2f}dB",
            f"alimiter=limit={ceiling:.4f}:level=0:latency=1",
            f"asplit={len(outputs)}",
        )
    )
    labels = [f"[s{i}]" for i in range(len(outputs))]
    graph = [f"[0:a]{shared}{''.join(labels)}"]
    maps: list[str] = []
    for i, (ext, path) in enumerate(outputs.items()):
        fmt = FORMATS[ext]
        graph.append(f"{labels[i]}{_resampler(fmt.rate)},{_S16_MONO}[o{i}]")
        maps += ["-map", f"[o{i}]", "-f", fmt.muxer, "-c:a", fmt.codec, str(path)]
    return ["-i", str(src), "-filter_complex", ";".join(graph), *maps]


async def process(
    src: Path, outputs: Mapping[str, Path], settings: Processing | None = None
) -> Processed:
    """Turn ``src`` into each of ``outputs`` (extension -> path), replaced only when all succeed."""
    settings = settings or Processing()
    if "wav" not in outputs:
        raise ValueError("the 8 kHz wav is the level reference; it must be among the outputs")
    span = await asyncio.to_thread(_speech_span, src, settings)
    partial = {ext: path.with_name(f".{path.name}.part") for ext, path in outputs.items()}
    gain = settings.target_dbfs - span.rms_dbfs
    level = -math.inf
    try:
        for _ in range(settings.level_passes):
            await ffmpeg(*_render_args(src, span, gain, settings, partial))
            level = await asyncio.to_thread(measure_dbfs, partial["wav"])
            if not math.isfinite(level):
                raise AudioError("nothing audible is left after conversion to 8 kHz")
            miss = settings.target_dbfs - level
            if abs(miss) <= settings.tolerance_db:
                break
            gain += miss
        for ext, path in partial.items():
            os.replace(path, outputs[ext])
    finally:
        for path in partial.values():
            path.unlink(missing_ok=True)
    return Processed((span.end_ms - span.start_ms) / 1000, level, gain)


async def silence(outputs: Mapping[str, Path], seconds: float) -> None:
    """``seconds`` of digital silence in each of ``outputs`` (a pause between read-back pieces)."""
    if seconds <= 0:
        raise ValueError("a silence lasts more than zero seconds")
    partial = {ext: path.with_name(f".{path.name}.part") for ext, path in outputs.items()}
    args: list[str] = []
    for ext in partial:  # one input per output rate
        source = f"anullsrc=r={FORMATS[ext].rate}:cl=mono"
        args += ["-f", "lavfi", "-t", f"{seconds:.3f}", "-i", source]
    for i, (ext, path) in enumerate(partial.items()):
        fmt = FORMATS[ext]
        args += ["-map", f"{i}:a", "-f", fmt.muxer, "-c:a", fmt.codec, str(path)]
    try:
        await ffmpeg(*args)
        for ext, path in partial.items():
            os.replace(path, outputs[ext])
    finally:
        for path in partial.values():
            path.unlink(missing_ok=True)
