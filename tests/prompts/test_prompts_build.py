"""Building a small catalog offline with espeak-ng: layout, formats, manifest, overrides, errors."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest
from pydub.generators import Sine

from ivr.cli import prompts_cmd
from ivr.config import Settings
from ivr.prompts import FORMATS, BuildReport, Processing, build_prompts, built_sound_path
from ivr.prompts.build import tts_hash
from ivr.prompts.espeak import EspeakEngine, EspeakVoice
from ivr.prompts.gtts_engine import GttsEngine
from ivr.prompts.manifest import Entry, Manifest
from ivr.prompts.pinyin import Readings
from ivr.prompts.tts import create_engine, is_reachable
from ivr.speech.catalog import LANGUAGES, Catalog


def _keys(catalog: Catalog) -> list[tuple[str, str]]:
    return [(lang, key) for lang in LANGUAGES for key in sorted(catalog.keys(lang))]


async def _build(settings: Settings, catalog_dir: Path, **options: Any) -> BuildReport:
    catalog = Catalog.load(catalog_dir)
    return await build_prompts(
        settings, catalog, engine="espeak", recorded_dir=catalog_dir / "recorded", **options
    )


def test_built_sound_path_follows_asterisk_layout(settings: Settings) -> None:
    assert built_sound_path(settings, "zh", "welcome") == (
        settings.data_dir / "sounds" / "zh" / "hotline" / "welcome.wav"
    )
    assert built_sound_path(settings, "es", "welcome", "ulaw").name == "welcome.ulaw"
    with pytest.raises(ValueError, match="mp3"):
        built_sound_path(settings, "en", "welcome", "mp3")


async def test_small_catalog_builds_every_format(
    settings: Settings, small_catalog_dir: Path, sound: Any
) -> None:
    report = await _build(settings, small_catalog_dir, jobs=2)

    catalog = Catalog.load(small_catalog_dir)
    assert report.ok, report.summary()
    assert report.engine == "espeak"
    assert {(r.lang, r.key) for r in report.results if r.status == "built"} == set(_keys(catalog))
    for lang, key in _keys(catalog):
        wav = sound.facts(built_sound_path(settings, lang, key, "wav"))
        assert (wav.rate, wav.width, wav.channels) == (8000, 2, 1), (lang, key)
        assert 0.2 <= wav.duration_s <= 30, (lang, key, wav.duration_s)
        assert sound.dbfs(wav.rms) > -30, (lang, key)  # not silent
        sln16 = built_sound_path(settings, lang, key, "sln16").stat().st_size
        assert sln16 == pytest.approx(wav.duration_s * 16000 * 2, rel=0.02)
        ulaw = built_sound_path(settings, lang, key, "ulaw").stat().st_size
        assert ulaw == pytest.approx(wav.duration_s * 8000, rel=0.02)
    assert "zh: 5 built, 0 unchanged, 0 failed" in report.summary()


async def test_a_prompt_for_every_folder_is_spoken_by_its_own_voice(
    settings: Settings, small_catalog_dir: Path
) -> None:
    """``voice: en`` + ``all:``: "For English, press seven" sounds the same in the zh folder."""
    await _build(settings, small_catalog_dir)

    english = built_sound_path(settings, "en", "offer_english").read_bytes()
    assert built_sound_path(settings, "zh", "offer_english").read_bytes() == english
    assert built_sound_path(settings, "es", "offer_english").read_bytes() == english


async def test_rebuild_redoes_only_what_changed(
    settings: Settings, small_catalog_dir: Path
) -> None:
    await _build(settings, small_catalog_dir)

    again = await _build(settings, small_catalog_dir)
    assert {r.status for r in again.results} == {"unchanged"}

    catalog_file = small_catalog_dir / "catalog.yaml"
    catalog_file.write_text(
        catalog_file.read_text(encoding="utf-8").replace(
            "Welcome to the social security hotline.", "Welcome to the 12333 hotline."
        ),
        encoding="utf-8",
    )
    built_sound_path(settings, "es", "num_3", "ulaw").unlink()  # a file missing on disk
    changed = await _build(settings, small_catalog_dir)
    assert {(r.lang, r.key) for r in changed.results if r.status == "built"} == {
        ("en", "welcome"),
        ("es", "num_3"),
    }
    entry = Manifest.load(settings.prompts_dir).get("en", "welcome")
    assert entry is not None
    assert (entry.text, entry.source, entry.engine) == (
        "Welcome to the 12333 hotline.",
        "tts",
        "espeak",
    )

    forced = await _build(settings, small_catalog_dir, force=True, languages=["zh"])
    assert [r.status for r in forced.results] == ["built"] * 5
    assert {r.lang for r in forced.results} == {"zh"}


async def test_a_corrected_reading_rebuilds_only_the_prompts_it_changes(
    settings: Settings, small_catalog_dir: Path
) -> None:
    catalog = Catalog.load(small_catalog_dir)

    async def build(readings: Readings) -> set[str]:
        report = await build_prompts(
            settings,
            catalog,
            languages=["zh"],
            engine=EspeakEngine(readings=readings),
            recorded_dir=small_catalog_dir / "recorded",
        )
        assert report.ok, report.summary()
        return {r.key for r in report.results if r.status == "built"}

    assert await build(Readings.parse({})) == {
        "welcome",
        "menu_main",
        "num_3",
        "yuan",
        "offer_english",
    }
    # An entry that reads as pypinyin does changes no sound; one that differs rebuilds its prompt.
    assert await build(Readings.parse({"words": {"热线": "re4 xian4"}})) == set()
    assert await build(Readings.parse({"words": {"欢迎": "huan1 ying4"}})) == {"welcome"}


async def test_a_pause_is_built_as_silence(
    settings: Settings, small_catalog_dir: Path, sound: Any
) -> None:
    fragments = small_catalog_dir / "fragments.yaml"
    text = fragments.read_text(encoding="utf-8")
    text = text.replace("  yuan: 元\n", "  yuan: 元\n  pause: ，\n")
    text = text.replace("  num_3: three\n", "  num_3: three\n  pause: ','\n")
    fragments.write_text(text, encoding="utf-8")

    report = await _build(settings, small_catalog_dir, languages=["zh", "en"])

    assert report.ok, report.summary()
    for lang in ("zh", "en"):
        pause = next(r for r in report.results if (r.lang, r.key) == (lang, "pause"))
        assert (pause.status, pause.source, pause.engine) == ("built", "silence", "")
        facts = sound.facts(built_sound_path(settings, lang, "pause"))
        assert (facts.rate, facts.channels) == (8000, 1)
        assert facts.duration_s == pytest.approx(0.4, abs=0.005)
        assert facts.peak == 0
        ulaw = built_sound_path(settings, lang, "pause", "ulaw").stat().st_size
        assert ulaw == pytest.approx(0.4 * 8000, rel=0.02)
        assert built_sound_path(settings, lang, "pause", "sln16").stat().st_size == pytest.approx(
            0.4 * 16000 * 2, rel=0.02
        )
    again = await _build(settings, small_catalog_dir, languages=["zh", "en"])
    assert {r.status for r in again.results} == {"unchanged"}


async def test_a_recording_wins_over_synthesis(
    settings: Settings, small_catalog_dir: Path, sound: Any
) -> None:
    recorded = small_catalog_dir / "recorded" / "zh" / "welcome.wav"
    recorded.parent.mkdir(parents=True)
    # Stereo 44.1 kHz with a second of silence first, like a careless studio export.
    tone = Sine(440, sample_rate=44100).to_audio_segment(duration=1200, volume=-30.0)
    padded = tone.silent(duration=1000, frame_rate=44100) + tone
    padded.set_channels(2).export(str(recorded), format="wav")

    report = await _build(settings, small_catalog_dir, languages=["zh"])

    welcome = next(r for r in report.results if r.key == "welcome")
    assert (welcome.status, welcome.source, welcome.engine) == ("built", "recorded", "")
    facts, samples = sound.read(built_sound_path(settings, "zh", "welcome"))
    assert facts.duration_s == pytest.approx(1.2 + 0.06, abs=0.05)  # trimmed, 30 ms pads
    assert sound.dbfs(facts.rms) == pytest.approx(-20, abs=1)  # normalised like the rest
    assert sound.tone_power(samples, 8000, 440) > 100 * sound.tone_power(samples, 8000, 1000)
    assert "(1 recorded)" in report.summary()

    # Replacing the recording rebuilds that prompt; removing it falls back to synthesis.
    tone.export(str(recorded), format="wav")
    replaced = await _build(settings, small_catalog_dir, languages=["zh"])
    assert [r.key for r in replaced.results if r.status == "built"] == ["welcome"]
    recorded.unlink()
    after = await _build(settings, small_catalog_dir, languages=["zh"])
    welcome = next(r for r in after.results if r.key == "welcome")
    assert (welcome.status, welcome.source, welcome.engine) == ("built", "tts", "espeak")


async def test_keys_gone_from_the_catalog_are_removed(
    settings: Settings, small_catalog_dir: Path
) -> None:
    await _build(settings, small_catalog_dir)
    fragments = small_catalog_dir / "fragments.yaml"
    fragments.write_text(
        fragments.read_text(encoding="utf-8").replace("  yuan: 元\n", ""), encoding="utf-8"
    )

    report = await _build(settings, small_catalog_dir, languages=["zh"])

    assert [(r.key, r.status) for r in report.results if r.status == "removed"] == [
        ("yuan", "removed")
    ]
    assert not built_sound_path(settings, "zh", "yuan").exists()
    assert Manifest.load(settings.prompts_dir).get("zh", "yuan") is None


async def test_a_prompt_that_cannot_be_built_fails_the_build(
    settings: Settings, small_catalog_dir: Path
) -> None:
    voices = {"zh": EspeakVoice("no-such-voice", 150), "en": EspeakVoice("en-us", 155)}
    report = await build_prompts(
        settings,
        Catalog.load(small_catalog_dir),
        languages=["zh", "en", "es"],
        engine=EspeakEngine(voices=voices),
        recorded_dir=small_catalog_dir / "recorded",
    )

    assert not report.ok
    failed = {(r.lang, r.key): r.error for r in report.failures}
    catalog = Catalog.load(small_catalog_dir)
    # Everything but English fails; "For English, press seven" is English in every folder.
    assert set(failed) == {
        (lang, key) for lang, key in _keys(catalog) if catalog.voice(lang, key) != "en"
    }
    assert "no voice 'no-such-voice'" in failed["zh", "welcome"]
    assert "no voice configured for language 'es'" in failed["es", "welcome"]
    assert report.counts("en")["built"] == 4
    assert report.counts("zh")["built"] == report.counts("es")["built"] == 1
    assert "FAILED zh/welcome" in report.summary()
    # Nothing half-built is left behind, and the next build tries the failures again.
    assert not built_sound_path(settings, "zh", "welcome").exists()
    retry = await _build(settings, small_catalog_dir)
    assert retry.ok
    assert retry.counts("zh")["built"] == 4 and retry.counts("en")["unchanged"] == 4


async def test_auto_offline_keeps_what_gtts_built(
    settings: Settings, small_catalog_dir: Path
) -> None:
    """A gTTS voice is not downgraded to espeak-ng just because this build runs offline."""
    if await is_reachable():
        pytest.skip("Google is reachable here: auto would use gTTS")
    await _build(settings, small_catalog_dir, languages=["en"])
    catalog = Catalog.load(small_catalog_dir)
    manifest = Manifest.load(settings.prompts_dir)
    text = catalog.text("en", "welcome")
    gtts_hash = tts_hash(GttsEngine(), "en", text, Processing())
    manifest.set("en", "welcome", Entry(gtts_hash, text, "tts", "gtts"))
    manifest.save()

    report = await build_prompts(
        settings,
        catalog,
        languages=["en"],
        engine="auto",
        recorded_dir=small_catalog_dir / "recorded",
    )

    assert report.engine == "espeak"
    statuses = {r.key: (r.status, r.engine) for r in report.results}
    assert statuses["welcome"] == ("unchanged", "gtts")
    assert statuses["menu_main"] == ("unchanged", "espeak")
    # Asked for espeak explicitly, the same prompt is rebuilt with it.
    explicit = await _build(settings, small_catalog_dir, languages=["en"])
    assert {r.key for r in explicit.results if r.status == "built"} == {"welcome"}


def test_engines_are_chosen_by_name_or_import_path() -> None:
    assert create_engine("espeak").name == "espeak"
    assert create_engine("gtts").name == "gtts"
    assert create_engine("ivr.prompts.espeak:EspeakEngine").name == "espeak"
    with pytest.raises(ValueError, match="unknown TTS engine"):
        create_engine("festival")
    with pytest.raises(TypeError, match="does not implement"):
        create_engine("pathlib:PurePath")


def _cli(argv: list[str], settings: Settings) -> int:
    parser = argparse.ArgumentParser(prog="hotline")
    prompts_cmd.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args, settings))


def _rows(listing: str) -> list[tuple[str, ...]]:
    return [tuple(line.split(None, 3)) for line in listing.splitlines()]


def test_cli_build_and_list(
    settings: Settings, small_catalog_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = ["--catalog", str(small_catalog_dir)]
    assert _cli(["prompts", "list", "--lang", "en", *catalog], settings) == 0
    listing = _rows(capsys.readouterr().out)
    assert listing[0] == ("key", "lang", "built", "text")
    assert ("welcome", "en", "no", "Welcome to the social security hotline.") in listing
    assert {row[1] for row in listing[1:]} == {"en"}

    assert _cli(["prompts", "build", "--engine", "espeak", "--jobs", "2", *catalog], settings) == 0
    out = capsys.readouterr().out
    assert "engine espeak" in out and "es: 4 built, 0 unchanged, 0 failed" in out

    assert _cli(["prompts", "build", "--lang", "zh", "--engine", "auto", *catalog], settings) == 0
    assert "zh: 0 built, 5 unchanged, 0 failed" in capsys.readouterr().out

    catalog_file = small_catalog_dir / "catalog.yaml"
    catalog_file.write_text(
        catalog_file.read_text(encoding="utf-8").replace("For your personal", "For your"),
        encoding="utf-8",
    )
    assert _cli(["prompts", "list", *catalog], settings) == 0
    listing = _rows(capsys.readouterr().out)
    assert (
        "menu_main",
        "en",
        "stale",
        "For your account, press 1. For an agent, press 0.",
    ) in listing
    assert ("num_3", "zh", "yes", "三") in listing


def test_cli_prints_the_pinyin_to_review(
    settings: Settings, small_catalog_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (small_catalog_dir / "pinyin.yaml").write_text(
        "words:\n  热线: re4 xian4\npolyphones: 为服\n", encoding="utf-8"
    )
    catalog = ["--catalog", str(small_catalog_dir)]
    assert _cli(["prompts", "pinyin", "welcome", *catalog], settings) == 0
    assert capsys.readouterr().out == (
        "welcome:\n"
        "  text: 您好，欢迎致电社会保障服务热线。\n"
        "  pinyin: nin2 hao3, huan1 ying2 zhi4 dian4 she4 hui4 bao3 zhang4 fu2 wu4 re4 xian4.\n"
        "  # 服 fu2\n"
    )
    assert _cli(["prompts", "pinyin", *catalog], settings) == 0
    assert [line for line in capsys.readouterr().out.splitlines() if line.endswith(":")] == [
        "menu_main:",
        "num_3:",
        "welcome:",
        "yuan:",
    ]  # every Mandarin text; not offer_english, which the English voice speaks
    assert _cli(["prompts", "pinyin", "nothing_such", *catalog], settings) == 2


def test_cli_exits_non_zero_when_a_key_fails(
    settings: Settings, small_catalog_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (small_catalog_dir / "fragments.yaml").write_text("en:\n  bad/key: oops\n", encoding="utf-8")

    code = _cli(
        [
            "prompts",
            "build",
            "--engine",
            "espeak",
            "--lang",
            "en",
            "--catalog",
            str(small_catalog_dir),
        ],
        settings,
    )

    assert code == 1
    captured = capsys.readouterr()
    assert "FAILED en/bad/key: key is not usable as a file name" in captured.out
    assert "1 prompt(s) failed" in captured.err


def test_cli_rejects_an_unknown_engine(settings: Settings) -> None:
    with pytest.raises(SystemExit):
        _cli(["prompts", "build", "--engine", "festival"], settings)


def test_formats_are_the_three_asterisk_plays() -> None:
    assert set(FORMATS) == {"wav", "sln16", "ulaw"}
