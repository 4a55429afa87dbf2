"""The softphone kit without Asterisk: the prompt check on synthetic speech, the control framing,
and a baresip that cannot register giving up in time."""

from __future__ import annotations

import math
import random
import time

import pytest

from tests.promptmatch import MIN_SPEECH, Sound, contains_prompt, envelope, match_prompt
from tests.softphone import (
    Account,
    Softphone,
    SoftphoneError,
    encode_netstring,
    require_baresip,
    split_netstrings,
)
from tests.telephony.callkit import free_port

RATE = 8000


def speech_like(seed: int, seconds: float = 3.0) -> list[float]:
    """Syllables: voiced bursts of random length, pitch and loudness, with pauses between."""
    rnd = random.Random(seed)
    out: list[float] = []
    while len(out) < seconds * RATE:
        length = round(rnd.uniform(0.08, 0.30) * RATE)
        pitch, loudness = rnd.uniform(110, 260), rnd.uniform(0.25, 1.0)
        for n in range(length):
            shape = math.sin(math.pi * n / length)  # rises and falls like a syllable
            voice = sum(math.sin(2 * math.pi * pitch * k * n / RATE) / k for k in (1, 2, 3))
            out.append(12000 * loudness * shape * voice / 1.8)
        out += [0.0] * round(rnd.uniform(0.03, 0.20) * RATE)
    return out[: round(seconds * RATE)]


def ulaw(sample: float) -> int:
    """A sample through G.711 mu-law and back, as a phone call carries it."""
    value = max(-32635, min(32635, round(sample)))
    magnitude = abs(value) + 0x84
    exponent = magnitude.bit_length() - 8
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    decoded = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return -decoded if value < 0 else decoded


def sound(samples: list[float]) -> Sound:
    return Sound([max(-32768, min(32767, round(s))) for s in samples], RATE)


def silence(seconds: float) -> list[float]:
    return [0.0] * round(seconds * RATE)


PROMPT = speech_like(seed=1)
REFERENCE = sound(silence(0.3) + PROMPT + silence(0.4))  # built prompts have some silence


def heard(*parts: list[float], gain: float = 1.0, noise: float = 0.0) -> Sound:
    """What a phone receives: the parts in a row, scaled, with line noise, through mu-law."""
    rnd = random.Random(7)
    joined = [s for part in parts for s in part]
    return Sound([ulaw(gain * s + rnd.gauss(0, noise)) for s in joined], RATE)


# --- the prompt check -----------------------------------------------------------------------------


def test_envelope_is_the_rms_of_each_frame() -> None:
    tone = sound([10000 * math.sin(2 * math.pi * 400 * n / RATE) for n in range(RATE)])
    levels = envelope(tone)
    assert len(levels) == 99  # 20 ms frames every 10 ms over 1 s
    assert all(abs(level - 10000 / math.sqrt(2)) < 10 for level in levels)


def test_prompt_at_an_offset_through_g711_at_another_level_is_found() -> None:
    recording = heard(silence(1.37), PROMPT, speech_like(seed=5, seconds=1.5), gain=0.3, noise=20)
    match = match_prompt(recording, REFERENCE)
    assert match.found, match
    assert match.score > 0.95, match
    assert abs(match.offset_s - (1.37 - 0.3)) <= 0.02, match  # the reference's file starts there
    assert contains_prompt(recording, REFERENCE)


@pytest.mark.parametrize("gain", [0.1, 2.0])  # 20 dB quieter; louder, clipped
def test_the_level_does_not_matter(gain: float) -> None:
    assert contains_prompt(heard(silence(0.5), PROMPT, gain=gain), REFERENCE)


def test_a_prompt_too_faint_to_hear_is_not_heard() -> None:
    """At -34 dB the shape is all there, but the quieter syllables sink under the silence floor."""
    match = match_prompt(heard(silence(0.5), PROMPT, silence(1.0), gain=0.02), REFERENCE)
    assert match.score > 0.95, match
    assert not match.found and match.speech_ratio < MIN_SPEECH, match


def test_silence_is_not_the_prompt() -> None:
    match = match_prompt(heard(silence(5.0), noise=3), REFERENCE)
    assert not match.found and match.score == 0.0, match


def test_noise_is_not_the_prompt() -> None:
    rnd = random.Random(3)
    noise = [rnd.gauss(0, 4000) for _ in range(5 * RATE)]
    match = match_prompt(heard(noise), REFERENCE)
    assert not match.found, match


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_another_prompt_is_not_the_prompt(seed: int) -> None:
    match = match_prompt(heard(silence(0.5), speech_like(seed), silence(1.0)), REFERENCE)
    assert not match.found, match
    assert match.score < 0.8, match


@pytest.mark.parametrize("part", [0.5, 0.9])
def test_a_prompt_cut_short_is_not_the_prompt(part: float) -> None:
    """The beginning, then the call went silent (the caller hung up, the line dropped)."""
    cut = PROMPT[: round(len(PROMPT) * part)]
    match = match_prompt(heard(silence(0.5), cut, silence(3.0)), REFERENCE)
    assert not match.found, match


def test_a_recording_shorter_than_the_prompt_is_not_the_prompt() -> None:
    match = match_prompt(heard(PROMPT[: len(PROMPT) * 2 // 3]), REFERENCE)
    assert not match.found, match


def test_a_silent_reference_is_refused() -> None:
    with pytest.raises(ValueError, match="silent"):
        match_prompt(heard(PROMPT), sound(silence(1.0)))


# --- ctrl_tcp framing -----------------------------------------------------------------------------


def test_netstrings_split_whole_messages_and_keep_the_rest() -> None:
    stream = encode_netstring(b'{"a":1}') + encode_netstring(b"") + b'14:{"event":'
    messages, rest = split_netstrings(stream)
    assert messages == [b'{"a":1}', b""]
    assert rest == b'14:{"event":'
    messages, rest = split_netstrings(rest + b"true},3")
    assert messages == [b'{"event":true}'] and rest == b"3"


@pytest.mark.parametrize("bad", [b"x:abc,", b"3:abcd", b"{}"])
def test_a_broken_netstring_is_an_error(bad: bytes) -> None:
    with pytest.raises(SoftphoneError):
        split_netstrings(bad)


# --- baresip itself -------------------------------------------------------------------------------


async def test_a_phone_that_cannot_register_gives_up_and_exits() -> None:
    """Nothing answers on the server's port: start() fails in time and baresip is gone."""
    try:
        require_baresip()
    except SoftphoneError as exc:
        pytest.fail(f"the softphone tests cannot run: {exc}", pytrace=False)
    account = Account("6001", "not-a-real-secret", "127.0.0.1", free_port())
    phone = Softphone.for_test(account, "test_a_phone_that_cannot_register", limit_s=30)
    began = time.monotonic()
    with pytest.raises(SoftphoneError, match="no such event"):
        await phone.start(register_within=2.0)
    assert time.monotonic() - began < 10
    assert not phone.running and phone.returncode is not None
    logs = phone.log.read_text() + phone.control_log.read_text()
    assert "REGISTERING" in logs
    assert "not-a-real-secret" not in logs
