"""The whole real catalog (prompts/catalog.yaml + fragments.yaml) builds offline in all languages.

The slowest prompt test: the catalog is built once per session with espeak-ng and every check
below reads that one build. Run it alone with ``pytest -m full_catalog``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ivr.config import Settings
from ivr.prompts import Processing, built_sound_path
from ivr.speech.catalog import LANGUAGES
from ivr.speech.readback import SILENCES
from tests.prompts.conftest import FullBuild, build_catalog

pytestmark = pytest.mark.full_catalog

# Policy explanations run past half a minute with espeak-ng's pace; longer means a runaway text.
MAX_SECONDS = 60
TARGET_DBFS = Processing().target_dbfs


def test_the_whole_catalog_builds_offline(full_build: FullBuild) -> None:
    _, catalog, report = full_build
    assert report.ok, report.summary()
    built = {(r.lang, r.key) for r in report.results if r.status == "built"}
    assert built == {(lang, key) for lang in LANGUAGES for key in catalog.keys(lang)}
    assert all(catalog.keys(lang) for lang in LANGUAGES)


def test_every_built_file_is_playable(full_build: FullBuild, sound: Any) -> None:
    settings, catalog, _ = full_build
    problems: list[str] = []
    for lang in LANGUAGES:
        for key in sorted(catalog.keys(lang)):
            problems += _check_prompt(settings, lang, key, sound)
    assert not problems, "\n".join(problems)


def _check_prompt(settings: Settings, lang: str, key: str, sound: Any) -> list[str]:
    name = f"{lang}/{key}"
    wav = sound.facts(built_sound_path(settings, lang, key, "wav"))
    problems = []
    if (wav.rate, wav.width, wav.channels) != (8000, 2, 1):
        problems.append(f"{name}: {wav.rate} Hz, {wav.width * 8} bit, {wav.channels} channels")
    if key in SILENCES:  # a pause: exactly its length, and silent
        if abs(wav.duration_s - SILENCES[key]) > 0.005 or wav.peak:
            problems.append(f"{name}: {wav.duration_s:.3f} s, peak {wav.peak}: not the pause")
    elif not 0.2 <= wav.duration_s <= MAX_SECONDS:
        problems.append(f"{name}: lasts {wav.duration_s:.2f} s")
    elif abs(sound.dbfs(wav.rms) - TARGET_DBFS) > 1:  # one loudness for every prompt
        problems.append(f"{name}: level {sound.dbfs(wav.rms):.1f} dBFS")
    sizes: dict[str, Path] = {
        ext: built_sound_path(settings, lang, key, ext) for ext in ("sln16", "ulaw")
    }
    expected = {"sln16": wav.duration_s * 16000 * 2, "ulaw": wav.duration_s * 8000}
    for ext, path in sizes.items():
        size = path.stat().st_size
        if abs(size - expected[ext]) > 0.02 * expected[ext]:
            problems.append(f"{name}.{ext}: {size} bytes for {wav.duration_s:.2f} s")
    return problems


def test_a_second_build_has_nothing_to_do(full_build: FullBuild) -> None:
    settings, catalog, _ = full_build
    again = build_catalog(settings, catalog)
    assert {r.status for r in again.results} == {"unchanged"}
