"""The processing chain: anti-aliased resampling, trimming, one loudness, and the output formats."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydub import AudioSegment
from pydub.generators import Sine

from ivr.prompts.audio import FORMATS, AudioError, Processing, process, resample
from ivr.prompts.espeak import EspeakEngine

TARGET = Processing().target_dbfs


def _outputs(directory: Path, name: str = "prompt") -> dict[str, Path]:
    return {ext: directory / f"{name}.{ext}" for ext in FORMATS}


def _partial_files(directory: Path) -> list[Path]:
    return list(directory.glob("*.part"))


async def _speech(tmp_path: Path, text: str = "Press one for your account.") -> AudioSegment:
    raw = tmp_path / "speech.wav"
    await EspeakEngine().synthesize(text, "en", raw)
    return AudioSegment.from_wav(str(raw))


@pytest.mark.parametrize("source_rate", [22050, 44100])
async def test_resampling_to_8khz_removes_a_6khz_tone(
    tmp_path: Path, sound: Any, source_rate: int
) -> None:
    tone = Sine(6000, sample_rate=source_rate).to_audio_segment(duration=1000, volume=-6.0)
    tone = tone.set_sample_width(2).set_channels(1)
    src, dst = tmp_path / "tone.wav", tmp_path / "tone8k.wav"
    tone.export(str(src), format="wav")

    await resample(src, dst, 8000)

    facts, _ = sound.read(dst)
    assert facts.rate == 8000
    assert facts.rms < 0.05 * tone.rms  # 6 kHz is above the 4 kHz Nyquist limit: filtered out
    # Why not pydub: its resampler has no anti-aliasing filter, the tone folds down to 2 kHz.
    naive = tone.set_frame_rate(8000)
    assert naive.rms > 0.5 * tone.rms


async def test_the_whole_chain_leaves_no_alias_in_the_telephone_band(
    tmp_path: Path, sound: Any
) -> None:
    wanted = Sine(1000, sample_rate=44100).to_audio_segment(duration=1500, volume=-12.0)
    above = Sine(6000, sample_rate=44100).to_audio_segment(duration=1500, volume=-12.0)
    src = tmp_path / "mix.wav"
    wanted.overlay(above).set_sample_width(2).export(str(src), format="wav")

    await process(src, _outputs(tmp_path))

    facts, samples = sound.read(tmp_path / "prompt.wav")
    kept = sound.tone_power(samples, facts.rate, 1000)
    alias = sound.tone_power(samples, facts.rate, 2000)  # where 6 kHz folds at 8 kHz
    assert alias < kept / 1000  # at least 30 dB below the tone that belongs there


async def test_leading_and_trailing_silence_is_trimmed(tmp_path: Path, sound: Any) -> None:
    speech = await _speech(tmp_path)
    plain, padded = tmp_path / "plain.wav", tmp_path / "padded.wav"
    speech.export(str(plain), format="wav")
    silence = AudioSegment.silent(duration=1500, frame_rate=speech.frame_rate)
    (silence + speech + silence[:1000]).export(str(padded), format="wav")

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    await process(plain, _outputs(tmp_path / "a"))
    await process(padded, _outputs(tmp_path / "b"))

    from_plain = sound.facts(tmp_path / "a" / "prompt.wav").duration_s
    from_padded = sound.facts(tmp_path / "b" / "prompt.wav").duration_s
    assert from_padded == pytest.approx(from_plain, abs=0.03)
    assert from_padded < len(speech) / 1000  # espeak-ng's own trailing silence went too


async def test_quiet_and_loud_sources_come_out_at_one_level(tmp_path: Path, sound: Any) -> None:
    speech = await _speech(tmp_path)
    loud = speech.apply_gain(-1 - speech.max_dBFS)  # peaks just under full scale
    levels = {"loud": loud, "quiet": loud.apply_gain(-30)}
    results = {}
    for name, audio in levels.items():
        src = tmp_path / f"{name}.wav"
        audio.export(str(src), format="wav")
        results[name] = await process(src, _outputs(tmp_path, name))

    for name in levels:
        facts = sound.facts(tmp_path / f"{name}.wav")
        assert sound.dbfs(facts.rms) == pytest.approx(TARGET, abs=1.0)
        assert facts.peak < 32767  # limited, never clipped
        assert results[name].level_dbfs == pytest.approx(TARGET, abs=1.0)
    assert results["quiet"].gain_db - results["loud"].gain_db == pytest.approx(30, abs=1.0)


async def test_outputs_have_asterisk_formats(tmp_path: Path, sound: Any) -> None:
    speech = await _speech(tmp_path)
    src = tmp_path / "src.wav"
    speech.export(str(src), format="wav")

    result = await process(src, _outputs(tmp_path))

    wav = sound.facts(tmp_path / "prompt.wav")
    assert (wav.rate, wav.width, wav.channels) == (8000, 2, 1)
    assert wav.duration_s == pytest.approx(result.duration_s, abs=0.02)
    sln16 = (tmp_path / "prompt.sln16").stat().st_size
    assert sln16 == pytest.approx(wav.duration_s * 16000 * 2, rel=0.01)
    ulaw = (tmp_path / "prompt.ulaw").stat().st_size
    assert ulaw == pytest.approx(wav.duration_s * 8000, rel=0.01)
    assert not _partial_files(tmp_path)


async def test_a_silent_source_fails_and_leaves_nothing(tmp_path: Path) -> None:
    src = tmp_path / "silent.wav"
    AudioSegment.silent(duration=1000, frame_rate=22050).export(str(src), format="wav")
    outputs = _outputs(tmp_path)

    with pytest.raises(AudioError, match="silent"):
        await process(src, outputs)

    assert not any(path.exists() for path in outputs.values())
    assert not _partial_files(tmp_path)


async def test_an_unreadable_source_fails_with_a_reason(tmp_path: Path) -> None:
    src = tmp_path / "broken.wav"
    src.write_bytes(b"RIFF not really a wav")

    with pytest.raises(AudioError, match=r"cannot read broken\.wav"):
        await process(src, _outputs(tmp_path))
