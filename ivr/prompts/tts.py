"""Speech engines behind one small interface, chosen by name.

An engine turns one prompt's text into a wav file; everything after that (trimming, loudness,
Asterisk formats) is the same for every engine, so a better voice drops in by registering a class
here, or without touching the project at all by naming it as ``package.module:Class``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

__all__ = [
    "AUTO",
    "ENGINE_NAMES",
    "TtsEngine",
    "TtsError",
    "create_engine",
    "is_reachable",
    "resolve_engine",
]

log = logging.getLogger(__name__)

AUTO = "auto"
GTTS_HOST = "translate.google.com"
REACHABILITY_TIMEOUT_S = 2.0


class TtsError(RuntimeError):
    """An engine could not synthesise a text (network down, engine missing, bad voice)."""


@runtime_checkable
class TtsEngine(Protocol):
    @property
    def name(self) -> str:
        """The name ``--engine`` takes and the manifest records."""
        ...

    async def synthesize(self, text: str, lang: str, out_wav: Path) -> None:
        """Write ``text`` spoken in ``lang`` (``zh``/``en``/``es``) to ``out_wav``, any rate."""
        ...

    def settings_fingerprint(self, lang: str) -> str:
        """Everything that changes the voice for ``lang``; a change rebuilds that language."""
        ...

    def prepare_text(self, text: str, lang: str) -> str:
        """What the engine is given to say ``text`` (pinyin for the offline Mandarin voice).

        Part of each prompt's manifest hash, so a change in it rebuilds the prompts it changes.
        """
        ...


def _espeak() -> TtsEngine:
    from ivr.prompts.espeak import EspeakEngine

    return EspeakEngine()


def _gtts() -> TtsEngine:
    from ivr.prompts.gtts_engine import GttsEngine

    return GttsEngine()


# Explicit table; order is preference for "auto" (best voice first, offline last).
_FACTORIES: dict[str, Callable[[], TtsEngine]] = {"gtts": _gtts, "espeak": _espeak}
ENGINE_NAMES: tuple[str, ...] = tuple(_FACTORIES)


def create_engine(name: str) -> TtsEngine:
    """An engine by registered name, or any class named ``package.module:Class``."""
    if name in _FACTORIES:
        return _FACTORIES[name]()
    if ":" in name:
        module_name, _, attr = name.partition(":")
        engine = getattr(importlib.import_module(module_name), attr)()
        if not isinstance(engine, TtsEngine):
            raise TypeError(f"{name} does not implement TtsEngine")
        return engine
    raise ValueError(f"unknown TTS engine {name!r}; known: {', '.join((*ENGINE_NAMES, AUTO))}")


async def is_reachable(
    host: str = GTTS_HOST, port: int = 443, within_s: float = REACHABILITY_TIMEOUT_S
) -> bool:
    """Whether a TCP connection opens within ``within_s``: cheap proof the network is there."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), within_s)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):  # the answer is already known
        await writer.wait_closed()
    return True


async def resolve_engine(name: str) -> TtsEngine:
    """The engine to use: ``auto`` means gTTS when Google answers, espeak-ng otherwise."""
    if name != AUTO:
        return create_engine(name)
    if await is_reachable():
        return create_engine("gtts")
    log.info("%s unreachable: using espeak-ng (offline voices)", GTTS_HOST)
    return create_engine("espeak")
