"""The prompt catalog: every sound a caller can hear, by key, with its text in each language.

Two files under ``prompts/`` hold it, both meant to be read and edited by a supervisor:

- ``catalog.yaml``: the flows' prompts, each key with its ``zh``/``en``/``es`` text side by side;
  a prompt spoken the same in every language (the offer of English on the Mandarin greeting) has
  ``all:`` (its text) and ``voice:`` (the language that speaks it) instead;
- ``fragments.yaml``: the pieces the read-back grammar composes amounts, dates and digits from,
  one section per language (the languages need different pieces, e.g. Spanish genders).

Languages are named as Asterisk names its sound folders: ``zh`` (Mandarin, zh-CN text), ``en``
and ``es``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ivr.resources import SHIPPED_PROMPTS

LANGUAGES: tuple[str, ...] = ("zh", "en", "es")
DEFAULT_LANGUAGE = "zh"
CATALOG_DIR = SHIPPED_PROMPTS


class MissingPromptError(LookupError):
    """A prompt key the flows need has no text in some language."""


@dataclass(frozen=True)
class Catalog:
    texts: Mapping[str, Mapping[str, str]]  # language -> key -> text
    voices: Mapping[str, str] = field(default_factory=dict)  # key -> language that speaks it

    @classmethod
    def load(cls, directory: Path = CATALOG_DIR) -> Catalog:
        texts: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
        prompts = yaml.safe_load((directory / "catalog.yaml").read_text(encoding="utf-8")) or {}
        voices: dict[str, str] = {}
        for key, entry in prompts.items():
            if "all" in entry:  # one text in every language's folder, spoken by one voice
                voices[key] = entry["voice"]
                entry = {lang: entry["all"] for lang in LANGUAGES}
            for lang, text in entry.items():
                texts.setdefault(lang, {})[key] = str(text)
        fragments = yaml.safe_load((directory / "fragments.yaml").read_text(encoding="utf-8")) or {}
        for lang, by_key in fragments.items():
            for key, text in by_key.items():
                if key in texts.setdefault(lang, {}):
                    raise ValueError(f"fragment {key!r} ({lang}) also defined as a prompt")
                texts[lang][key] = str(text)
        return cls(texts, voices)

    def text(self, language: str, key: str) -> str:
        try:
            return self.texts[language][key]
        except KeyError:
            raise MissingPromptError(f"no {language} text for prompt {key!r}") from None

    def voice(self, language: str, key: str) -> str:
        """The language whose voice speaks ``key`` in ``language``'s folder ("For English...")."""
        return self.voices.get(key, language)

    def keys(self, language: str) -> frozenset[str]:
        return frozenset(self.texts.get(language, {}))

    def missing(self, keys: Iterable[str], languages: Iterable[str] = LANGUAGES) -> list[str]:
        """``lang:key`` for every wanted key without text; empty when the catalog is complete."""
        wanted = sorted(set(keys))
        return [
            f"{lang}:{key}" for lang in languages for key in wanted if key not in self.keys(lang)
        ]

    def require(self, keys: Iterable[str], languages: Iterable[str] = LANGUAGES) -> None:
        missing = self.missing(keys, languages)
        if missing:
            raise MissingPromptError("prompts missing from the catalog: " + ", ".join(missing))

    def render(self, language: str, keys: Iterable[str]) -> str:
        """The text a caller hears for a sequence of sound keys (for the console and the logs)."""
        text = ""
        previous_voice = ""
        for key in keys:
            voice = self.voice(language, key)
            piece = self.text(language, key)
            # Mandarin pieces join without spaces, everything else with one, but for a pause
            # mark (the comma of a pause between groups of digits).
            if text and not (voice == previous_voice == "zh") and not piece.startswith(","):
                text += " "
            text += piece
            previous_voice = voice
        return text
