"""Every Mandarin prompt and fragment reads as reviewed: the pinyin the offline voice is given
matches ``expected_pinyin.yaml``, a file checked by hand character by character for polyphones.

A wrong entry in ``prompts/pinyin.yaml``, a new pypinyin that reads a word differently, a changed
text or a new prompt nobody reviewed: each fails here, naming the prompt.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml

from ivr.cli.prompts_cmd import mandarin_keys
from ivr.prompts.pinyin import READINGS_FILE, Readings, to_tone_pinyin
from ivr.speech.catalog import CATALOG_DIR, Catalog

EXPECTED_FILE = Path(__file__).with_name("expected_pinyin.yaml")
Expected = Mapping[str, Mapping[str, str]]


def reading_problems(catalog: Catalog, expected: Expected, readings: Readings) -> list[str]:
    """What differs from the reviewed readings, one line per prompt."""
    problems = []
    for key in mandarin_keys(catalog):
        text = catalog.text("zh", key)
        said = to_tone_pinyin(text, readings)
        reviewed = expected.get(key)
        if reviewed is None:
            problems.append(f"{key}: no reviewed reading (hotline prompts pinyin {key})")
        elif reviewed["text"] != text:
            problems.append(f"{key}: text changed since its reading was reviewed")
        elif reviewed["pinyin"] != said:
            problems.append(f"{key}: reads {said!r}, reviewed {reviewed['pinyin']!r}")
    problems += [
        f"{key}: reviewed, but no longer a Mandarin prompt"
        for key in sorted(set(expected) - set(mandarin_keys(catalog)))
    ]
    return problems


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load(CATALOG_DIR)


@pytest.fixture(scope="module")
def expected() -> Expected:
    loaded: Expected = yaml.safe_load(EXPECTED_FILE.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def readings() -> Readings:
    return Readings.load(READINGS_FILE)


def test_every_mandarin_prompt_reads_as_reviewed(
    catalog: Catalog, expected: Expected, readings: Readings
) -> None:
    assert reading_problems(catalog, expected, readings) == []


def test_the_review_covers_prompts_and_fragments(catalog: Catalog, expected: Expected) -> None:
    assert {"pension_balance_is", "greeting_12333", "d1", "d1_yao", "u_working_day"} <= set(
        expected
    )
    assert "pause" not in expected  # a silence: nothing is said
    assert "offer_english" not in expected  # spoken by the English voice


def test_the_prompts_the_issue_names_read_wei2(expected: Expected) -> None:
    for key in ("pension_balance_is", "loss_confirm_card", "medical_balance_is"):
        assert " wei2" in expected[key]["pinyin"] and " wei4 nin2" not in expected[key]["pinyin"]
    assert "为" not in expected["enter_password"]["text"]  # shortened: no 为 to misread
    assert expected["pension_balance_is"]["pinyin"].endswith("yu2 e2 wei2")
    assert "yao1 er4 san1 san1 san1" in expected["greeting_12333"]["pinyin"]


def test_a_wrong_entry_in_the_table_fails(
    catalog: Catalog, expected: Expected, readings: Readings
) -> None:
    wrong = Readings.parse(
        {"words": {**{w: " ".join(r) for w, r in readings.words.items()}, "余额为": "yu2 e2 wei4"}}
    )
    problems = reading_problems(catalog, expected, wrong)
    assert any(p.startswith("pension_balance_is: reads") for p in problems)
    assert any(p.startswith("medical_balance_is: reads") for p in problems)


def test_a_new_prompt_nobody_reviewed_fails(
    tmp_path: Path, expected: Expected, readings: Readings
) -> None:
    catalog_yaml = (CATALOG_DIR / "catalog.yaml").read_text(encoding="utf-8")
    catalog_yaml += (
        "\nbank_hours:\n  zh: 银行营业时间为\n  en: Bank hours are\n  es: El horario es\n"
    )
    (tmp_path / "catalog.yaml").write_text(catalog_yaml, encoding="utf-8")
    (tmp_path / "fragments.yaml").write_bytes((CATALOG_DIR / "fragments.yaml").read_bytes())
    problems = reading_problems(Catalog.load(tmp_path), expected, readings)
    assert problems == ["bank_hours: no reviewed reading (hotline prompts pinyin bank_hours)"]


def test_a_changed_text_needs_a_new_review(
    tmp_path: Path, expected: Expected, readings: Readings
) -> None:
    catalog_yaml = (CATALOG_DIR / "catalog.yaml").read_text(encoding="utf-8")
    changed = catalog_yaml.replace("受理编号是", "受理号为", 1)
    assert changed != catalog_yaml
    (tmp_path / "catalog.yaml").write_text(changed, encoding="utf-8")
    (tmp_path / "fragments.yaml").write_bytes((CATALOG_DIR / "fragments.yaml").read_bytes())
    problems = reading_problems(Catalog.load(tmp_path), expected, readings)
    assert problems == ["your_reference: text changed since its reading was reviewed"]
