"""What was built from what: ``<prompts_dir>/manifest.json``, so a rebuild redoes only changes.

Each built prompt records a hash of everything its sound depends on (its text, or the bytes of its
human recording; the engine and its voice settings; the processing settings). A prompt is redone
when that hash changes or one of its files is missing.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = ["MANIFEST_NAME", "Entry", "Manifest", "prompt_hash", "recording_hash"]

MANIFEST_NAME = "manifest.json"
VERSION = 1
Source = Literal["tts", "recorded", "silence"]


@dataclass(frozen=True)
class Entry:
    hash: str
    text: str
    source: Source
    engine: str  # the engine that spoke it ("" for a recording or a silence)


def prompt_hash(**inputs: str) -> str:
    """A stable hash of named inputs (order-free)."""
    canonical = json.dumps(inputs, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def recording_hash(path: Path) -> str:
    """Blocking: a recording is identified by its bytes, so replacing the file rebuilds it."""
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for block in iter(lambda: source.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


class Manifest:
    def __init__(self, path: Path, entries: dict[str, dict[str, Entry]] | None = None) -> None:
        self.path = path
        self.entries: dict[str, dict[str, Entry]] = entries or {}  # language -> key -> entry

    @classmethod
    def load(cls, prompts_dir: Path) -> Manifest:
        """The manifest of ``prompts_dir``; empty (everything is built) if absent or unreadable."""
        path = prompts_dir / MANIFEST_NAME
        try:
            raw: Any = json.loads(path.read_text(encoding="utf-8"))
            if raw.get("version") != VERSION:
                return cls(path)
            entries = {
                lang: {key: Entry(**fields) for key, fields in by_key.items()}
                for lang, by_key in raw["prompts"].items()
            }
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return cls(path)  # a damaged manifest only costs a full rebuild
        return cls(path, entries)

    def get(self, lang: str, key: str) -> Entry | None:
        return self.entries.get(lang, {}).get(key)

    def set(self, lang: str, key: str, entry: Entry) -> None:
        self.entries.setdefault(lang, {})[key] = entry

    def remove(self, lang: str, key: str) -> None:
        self.entries.get(lang, {}).pop(key, None)

    def save(self) -> None:
        """Written to a temporary name and renamed, so a crash never leaves half a manifest."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "version": VERSION,
            "prompts": {
                lang: {key: asdict(entry) for key, entry in sorted(by_key.items())}
                for lang, by_key in sorted(self.entries.items())
            },
        }
        partial = self.path.with_name(self.path.name + ".part")
        partial.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        os.replace(partial, self.path)
