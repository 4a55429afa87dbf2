"""Shared fixtures of the prompt build tests: a small catalog, settings, and sound inspection."""

from __future__ import annotations

import array
import asyncio
import math
import wave
from dataclasses import dataclass
from pathlib import Path

import pytest

from ivr.config import Settings
from ivr.prompts import RECORDED_DIR, BuildReport, build_prompts
from ivr.speech.catalog import CATALOG_DIR, Catalog

SMALL_CATALOG = """\
welcome:
  zh: 您好，欢迎致电社会保障服务热线。
  en: Welcome to the social security hotline.
  es: Bienvenido a la línea de la seguridad social.
menu_main:
  zh: 查询个人账户请按1，人工服务请按0。
  en: For your personal account, press 1. For an agent, press 0.
  es: Para consultar su cuenta, pulse 1. Para hablar con un agente, pulse 0.
offer_english:
  voice: en
  all: For English, press seven.
"""
SMALL_FRAGMENTS = """\
zh:
  num_3: 三
  yuan: 元
en:
  num_3: three
es:
  num_3: tres
"""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "full_catalog: builds the whole real prompt catalog offline (slowest test)"
    )


@dataclass(frozen=True)
class WavFacts:
    rate: int
    width: int
    channels: int
    duration_s: float
    rms: float  # of 16-bit samples, 0..32767
    peak: int


class Sound:
    """Reading what the build wrote, with nothing but the standard library."""

    @staticmethod
    def read(path: Path) -> tuple[WavFacts, array.array[int]]:
        with wave.open(str(path), "rb") as wav:
            rate, width, channels = wav.getframerate(), wav.getsampwidth(), wav.getnchannels()
            frames = wav.readframes(wav.getnframes())
        samples = array.array("h", frames) if width == 2 else array.array("h")
        facts = WavFacts(
            rate=rate,
            width=width,
            channels=channels,
            duration_s=len(frames) / (rate * width * channels),
            rms=Sound.rms(samples),
            peak=max((abs(s) for s in samples), default=0),
        )
        return facts, samples

    @staticmethod
    def facts(path: Path) -> WavFacts:
        return Sound.read(path)[0]

    @staticmethod
    def rms(samples: array.array[int]) -> float:
        return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0

    @staticmethod
    def dbfs(rms: float) -> float:
        return 20 * math.log10(rms / 32768) if rms > 0 else -math.inf

    @staticmethod
    def tone_power(samples: array.array[int], rate: int, frequency: float) -> float:
        """Goertzel: the power at one frequency, to tell a tone from its alias."""
        coefficient = 2 * math.cos(2 * math.pi * frequency / rate)
        previous = before = 0.0
        for sample in samples:
            previous, before = sample + coefficient * previous - before, previous
        power = previous * previous + before * before - coefficient * previous * before
        return power / len(samples)


@pytest.fixture
def sound() -> type[Sound]:
    return Sound


@pytest.fixture
def small_catalog_dir(tmp_path: Path) -> Path:
    """A catalog folder like ``prompts/``: catalog.yaml, fragments.yaml and an empty recorded/."""
    directory = tmp_path / "catalog"
    (directory / "recorded").mkdir(parents=True)
    (directory / "catalog.yaml").write_text(SMALL_CATALOG, encoding="utf-8")
    (directory / "fragments.yaml").write_text(SMALL_FRAGMENTS, encoding="utf-8")
    return directory


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var")


FullBuild = tuple[Settings, Catalog, BuildReport]


def build_catalog(settings: Settings, catalog: Catalog) -> BuildReport:
    return asyncio.run(build_prompts(settings, catalog, engine="espeak", recorded_dir=RECORDED_DIR))


@pytest.fixture(scope="session")
def full_build(tmp_path_factory: pytest.TempPathFactory) -> FullBuild:
    """The whole real catalog, built offline once a session (the slowest fixture)."""
    catalog = Catalog.load(CATALOG_DIR)
    settings = Settings(data_dir=tmp_path_factory.mktemp("full-catalog"))
    report = build_catalog(settings, catalog)
    print(f"\n{report.summary()}")  # shown with -s: the timing of a full offline build
    return settings, catalog, report
