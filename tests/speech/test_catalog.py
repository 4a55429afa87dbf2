"""The prompt catalog: complete in every language, well-formed, and readable by the right voice."""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from ivr.flows import required_sounds
from ivr.speech.catalog import CATALOG_DIR, LANGUAGES, Catalog, MissingPromptError
from ivr.speech.readback import digits

RAW: Mapping[str, Mapping[str, Any]] = yaml.safe_load(
    (CATALOG_DIR / "catalog.yaml").read_text(encoding="utf-8")
)
FRAGMENTS: Mapping[str, Mapping[str, str]] = yaml.safe_load(
    (CATALOG_DIR / "fragments.yaml").read_text(encoding="utf-8")
)
PROMPT_KEYS = sorted(RAW)

LATIN = re.compile(r"[A-Za-z]")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
DOLLARS = re.compile(r"\b(?:dollars?|cents?|d[oó]lar(?:es)?|centavos?)\b|美元|美分|\$", re.I)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


def prompt_texts(catalog: Catalog) -> list[tuple[str, str, str, str]]:
    """(folder language, key, text, voice) of every prompt of catalog.yaml."""
    return [
        (lang, key, catalog.text(lang, key), catalog.voice(lang, key))
        for lang in LANGUAGES
        for key in PROMPT_KEYS
    ]


def test_catalog_loads(catalog: Catalog) -> None:
    assert PROMPT_KEYS
    for lang in LANGUAGES:
        assert set(PROMPT_KEYS) <= catalog.keys(lang)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_sound_the_flows_need_exists(catalog: Catalog, lang: str) -> None:
    # Prompts of the flows, of the checks and of the runtime, and the read-back fragments.
    assert catalog.missing(required_sounds(lang), [lang]) == []


@pytest.mark.parametrize("key", PROMPT_KEYS)
def test_entry_has_every_language_or_one_voice(key: str) -> None:
    entry = RAW[key]
    assert isinstance(entry, dict), key
    assert set(entry) in ({*LANGUAGES}, {"voice", "all"}), f"{key}: {sorted(entry)}"


def test_no_text_is_empty(catalog: Catalog) -> None:
    empty = [
        f"{lang}:{key}"
        for lang in LANGUAGES
        for key, text in catalog.texts[lang].items()
        if not text.strip()
    ]
    assert empty == []


def test_no_prompt_key_is_a_fragment_key() -> None:
    fragment_keys = {key for by_key in FRAGMENTS.values() for key in by_key}
    assert set(RAW) & fragment_keys == set()


def test_loader_refuses_a_prompt_named_like_a_fragment(tmp_path: Path) -> None:
    shutil.copy(CATALOG_DIR / "fragments.yaml", tmp_path / "fragments.yaml")
    (tmp_path / "catalog.yaml").write_text(
        "d1:\n  zh: 一\n  en: one\n  es: uno\n", encoding="utf-8"
    )
    with pytest.raises(ValueError, match="d1"):
        Catalog.load(tmp_path)


def test_voice_overrides_are_languages(catalog: Catalog) -> None:
    assert catalog.voices, "the offers of English and Spanish are spoken by their own voices"
    assert set(catalog.voices.values()) <= set(LANGUAGES)
    assert catalog.voice("zh", "offer_english") == "en"
    assert catalog.voice("zh", "offer_spanish") == "es"


def test_each_text_suits_the_voice_that_reads_it(catalog: Catalog) -> None:
    # The Mandarin voice cannot read Latin letters; the others cannot read Chinese characters.
    wrong = [
        f"{lang}:{key} ({voice} voice): {text}"
        for lang, key, text, voice in prompt_texts(catalog)
        if (LATIN if voice == "zh" else CJK).search(text)
    ]
    assert wrong == []


def test_numbers_are_written_in_words(catalog: Catalog) -> None:
    with_digits = [
        f"{lang}:{key}" for lang, key, text, _ in prompt_texts(catalog) if re.search(r"[0-9]", text)
    ]
    assert with_digits == []


def test_money_is_yuan_never_dollars(catalog: Catalog) -> None:
    dollars = [
        f"{lang}:{key}: {text}"
        for lang in LANGUAGES
        for key, text in catalog.texts[lang].items()
        if DOLLARS.search(text)
    ]
    assert dollars == []


def test_the_console_shows_a_reference_as_the_caller_hears_it(catalog: Catalog) -> None:
    # The pause between groups of digits shows as a comma, without a space before it.
    heard = {lang: catalog.render(lang, digits(lang, "261125000907")) for lang in LANGUAGES}
    assert heard["zh"] == "二六幺幺，二五零零，零九零七"
    assert heard["en"] == "two six one one, two five zero zero, zero nine zero seven"
    assert heard["es"].startswith("dos seis uno uno, dos cinco cero cero,")


SMALL_CATALOG = """\
greet: {zh: 您好, en: Hello, es: Hola, yue: 你好}
english_offer: {all: For English press 2, voice: en}
twelve: {zh: 12, en: 12, es: 12}
"""
SMALL_FRAGMENTS = (
    "zh: {d1: 一, pause: ，}\nen: {d1: one, pause: ','}\nyue: {d1: 一}\nko: {d1: 일}\n"
)


def test_a_catalog_of_its_own_loads_renders_and_names_what_is_missing(tmp_path: Path) -> None:
    (tmp_path / "catalog.yaml").write_text(SMALL_CATALOG, encoding="utf-8")
    (tmp_path / "fragments.yaml").write_text(SMALL_FRAGMENTS, encoding="utf-8")
    catalog = Catalog.load(tmp_path)
    assert catalog.text("en", "twelve") == "12"  # a number in YAML is still a text
    assert catalog.text("es", "english_offer") == "For English press 2"
    assert (catalog.voice("zh", "english_offer"), catalog.voice("zh", "greet")) == ("en", "zh")
    assert catalog.render("zh", ["greet", "d1", "d1"]) == "您好一一"
    assert catalog.render("zh", ["english_offer", "d1"]) == "For English press 2 一"
    assert catalog.render("en", ["greet", "d1", "pause", "d1"]) == "Hello one, one"
    assert catalog.keys("yue") == {"greet", "d1"}  # a language beyond the three is kept
    assert catalog.keys("ko") == {"d1"}  # even with fragments only
    assert catalog.keys("fr") == frozenset()
    assert catalog.keys("en") == {"greet", "english_offer", "twelve", "d1", "pause"}
    assert catalog.missing(["greet", "d1", "nope"]) == ["zh:nope", "en:nope", "es:d1", "es:nope"]
    catalog.require(["greet", "d1"], ["zh", "en"])
    with pytest.raises(MissingPromptError) as refused:
        catalog.require(["greet", "nope", "d1"])
    assert str(refused.value) == (
        "prompts missing from the catalog: zh:nope, en:nope, es:d1, es:nope"
    )
    with pytest.raises(MissingPromptError) as refused:
        catalog.text("es", "nope")
    assert str(refused.value) == "no es text for prompt 'nope'"


def test_empty_catalog_files_load_as_an_empty_catalog(tmp_path: Path) -> None:
    (tmp_path / "catalog.yaml").write_text("", encoding="utf-8")
    (tmp_path / "fragments.yaml").write_text("", encoding="utf-8")
    catalog = Catalog.load(tmp_path)
    assert [catalog.keys(lang) for lang in LANGUAGES] == [frozenset()] * 3
    assert catalog.missing(["greet"], ["en"]) == ["en:greet"]
