"""The facts of the seed every caller must be able to hear, in all three languages: a formal
report by someone else with both ID cards (originals and copies), a loss reported in writing at a
service point, and self-service terminals that take the card or the ID card and print a
contribution certificate (参保证明)."""

from __future__ import annotations

import pytest

from ivr.speech.catalog import CATALOG_DIR, Catalog

# prompt -> language -> words its text must hold
FACTS: dict[str, dict[str, tuple[str, ...]]] = {
    "info_proxy": {
        "zh": ("他人代办", "双方", "原件", "复印件"),
        "en": ("someone else", "both id cards", "originals", "copy"),
        "es": ("otra persona", "los dos documentos", "originales", "copia"),
    },
    "next_steps_after": {  # right after a loss report, with the date before which
        "zh": ("他人", "双方身份证", "原件", "复印件"),
        "en": ("someone else", "both id cards", "originals", "copies"),
        "es": ("otra persona", "los dos documentos", "originales", "copias"),
    },
    "info_written": {
        "zh": ("书面挂失", "网点"),
        "en": ("in writing", "service point"),
        "es": ("por escrito", "oficina"),
    },
    "unverified_next_steps": {
        "zh": ("书面挂失",),
        "en": ("in writing",),
        "es": ("por escrito",),
    },
    "policy_terminals": {
        "zh": ("社保卡或身份证登录", "打印参保证明"),
        "en": ("social security card or your id card", "print a certificate"),
        "es": ("tarjeta social o su documento de identidad", "imprimir un certificado"),
    },
}


@pytest.mark.parametrize("language", ["zh", "en", "es"])
def test_the_seed_facts_are_said_in_every_language(language: str) -> None:
    catalog = Catalog.load(CATALOG_DIR)
    missing = {
        key: [word for word in words[language] if word not in catalog.text(language, key).lower()]
        for key, words in FACTS.items()
    }
    assert {key: words for key, words in missing.items() if words} == {}
