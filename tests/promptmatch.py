"""Does a recording hold a prompt? What a softphone received against a built prompt file.

A pure comparison of energy envelopes (see ``match_prompt``), in plain Python: no numpy in the
project, and ``audioop`` is deprecated. The score threshold comes from the catalog: against
either greeting (espeak-ng, Mandarin), every other built prompt scores 0.53 at most, while the
12333 greeting as a softphone received it through Asterisk scores above 0.99.
"""

from __future__ import annotations

import array
import math
import operator
import sys
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "MIN_SCORE",
    "MIN_SPEECH",
    "PromptMatch",
    "Sound",
    "contains_prompt",
    "envelope",
    "match_prompt",
    "read_wav",
]

FRAME_S = 0.020  # energy frames of 20 ms (a G.711 packet) ...
HOP_S = 0.010  # ... every 10 ms, so a prompt that starts between two frames still lines up
MIN_SCORE = 0.80  # see the module's docstring
ACTIVE_DB = 30.0  # a frame is speech within 30 dB of the loudest frame around it ...
SILENCE_RMS = 30.0  # ... and above this level (about -61 dBFS), under which nothing is heard
MIN_SPEECH = 0.80  # speech where the prompt was found / speech in the prompt


@dataclass(frozen=True)
class Sound:
    """16-bit mono samples at ``rate`` Hz."""

    samples: Sequence[int]
    rate: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate


def read_wav(path: Path) -> Sound:
    with wave.open(str(path)) as sound:
        if sound.getsampwidth() != 2 or sound.getnchannels() != 1:
            raise ValueError(f"{path}: not 16-bit mono")
        samples = array.array("h", sound.readframes(sound.getnframes()))
        if sys.byteorder == "big":
            samples.byteswap()
        return Sound(samples, sound.getframerate())


def envelope(sound: Sound) -> list[float]:
    """RMS level of each FRAME_S frame, one every HOP_S."""
    frame, hop = round(sound.rate * FRAME_S), round(sound.rate * HOP_S)
    levels = []
    for start in range(0, len(sound.samples) - frame + 1, hop):
        chunk = sound.samples[start : start + frame]
        levels.append(math.sqrt(sum(map(operator.mul, chunk, chunk)) / frame))
    return levels


@dataclass(frozen=True)
class PromptMatch:
    """Where the prompt fits the recording best, and how well."""

    score: float  # normalised cross-correlation of the envelopes there, -1 to 1
    offset_s: float  # where the prompt's file would start in the recording
    speech_ratio: float  # time with audible speech there / time with speech in the prompt

    @property
    def found(self) -> bool:
        return self.score >= MIN_SCORE and self.speech_ratio >= MIN_SPEECH


def match_prompt(recording: Sound, reference: Sound) -> PromptMatch:
    """Find ``reference`` (a built prompt) in ``recording`` (what a phone received).

    Both become energy envelopes; the reference is cut to its speech (leading and trailing silence
    say nothing) and slid along the recording. At each lag the Pearson correlation of the two
    envelopes is taken: blind to the level (a gain scales one envelope) and to the noise G.711
    companding adds, high only where the rises and falls of the speech line up. The recording may
    be shorter than the prompt: it is padded with silence, which lowers the score. Found means a
    high score *and*, at that place, about as much audible speech as the prompt has: a prompt so
    faint that the line's silence swallows its quieter syllables was not heard.
    """
    ref = envelope(reference)
    if not ref or max(ref) <= 0:
        raise ValueError("the reference prompt is silent")
    floor = max(ref) * 10 ** (-ACTIVE_DB / 20)
    spoken = [i for i, level in enumerate(ref) if level >= floor]
    lead = spoken[0]
    ref = ref[lead : spoken[-1] + 1]
    size = len(ref)
    mean = sum(ref) / size
    centred = [level - mean for level in ref]
    ref_norm = math.sqrt(sum(c * c for c in centred))
    heard = envelope(recording)
    if not heard or max(heard) < SILENCE_RMS or ref_norm == 0:
        return PromptMatch(0.0, 0.0, 0.0)
    heard += [0.0] * max(0, size - len(heard))

    best, best_lag = -1.0, 0
    total = sum(heard[:size])  # running sums of the window: its variance in O(1) per lag
    squares = sum(level * level for level in heard[:size])
    for lag in range(len(heard) - size + 1):
        if lag:
            gone, came = heard[lag - 1], heard[lag + size - 1]
            total += came - gone
            squares += came * came - gone * gone
        variance = squares - total * total / size
        if variance <= 1e-9:  # flat: silence or a steady tone
            continue
        # sum(window * centred) needs no mean of the window: the centred reference sums to 0.
        score = sum(map(operator.mul, heard[lag : lag + size], centred))
        score /= ref_norm * math.sqrt(variance)
        if score > best:
            best, best_lag = score, lag
    window = heard[best_lag : best_lag + size]
    window_floor = max(SILENCE_RMS, max(window) * 10 ** (-ACTIVE_DB / 20))
    speech = sum(level >= window_floor for level in window)
    ratio = speech / sum(level >= floor for level in ref)
    return PromptMatch(best, (best_lag - lead) * HOP_S, ratio)


def contains_prompt(recording: Sound, reference: Sound) -> bool:
    return match_prompt(recording, reference).found
