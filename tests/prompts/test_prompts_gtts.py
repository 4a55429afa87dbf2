"""The gTTS engine and the choice of engine, tested with real (failing) network calls."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from ivr.prompts.gtts_engine import GttsEngine, GttsVoice
from ivr.prompts.tts import REACHABILITY_TIMEOUT_S, TtsError, is_reachable, resolve_engine


async def test_reachability_answers_within_its_timeout() -> None:
    started = time.monotonic()
    await is_reachable()  # False on this offline machine, True where Google answers
    assert time.monotonic() - started < REACHABILITY_TIMEOUT_S + 0.5


async def test_reachability_sees_an_open_and_a_closed_port() -> None:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        assert await is_reachable("127.0.0.1", port)
    assert not await is_reachable("127.0.0.1", port, within_s=0.5)  # closed now
    assert not await is_reachable("host.invalid", 443, within_s=0.5)  # never resolves


async def test_auto_falls_back_to_espeak_offline() -> None:
    if await is_reachable():
        pytest.skip("Google is reachable here")
    engine = await resolve_engine("auto")
    assert engine.name == "espeak"


def _leftovers(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


@pytest.mark.parametrize("tld", ["invalid", None])
async def test_a_failed_request_leaves_no_empty_file(tmp_path: Path, tld: str | None) -> None:
    """gTTS itself leaves a 0-byte file when it fails; the engine must not pass one on.

    The ``.invalid`` host fails everywhere (RFC 2606); the default host fails on offline machines.
    """
    if tld is None:
        if await is_reachable():
            pytest.skip("Google is reachable here")
        engine = GttsEngine(timeout=5, retry_delay_s=0.05)
    else:
        voices = {"en": GttsVoice("en", tld=tld)}
        engine = GttsEngine(voices=voices, timeout=5, retry_delay_s=0.05)

    started = time.monotonic()
    with pytest.raises(TtsError, match="gTTS failed"):
        await engine.synthesize("Welcome to the hotline.", "en", tmp_path / "welcome.wav")

    assert _leftovers(tmp_path) == []
    assert time.monotonic() - started >= 0.05 + 0.1  # it tried again, waiting longer each time


def test_fingerprint_names_what_shapes_the_voice() -> None:
    engine = GttsEngine()
    assert engine.settings_fingerprint("zh").startswith("gtts:lang=zh,tld=com,gtts=")
    assert "tld=es" in engine.settings_fingerprint("es")
    with pytest.raises(TtsError, match="no voice configured"):
        engine.settings_fingerprint("fr")


def test_google_is_told_to_say_yao_in_digits_read_one_by_one() -> None:
    engine = GttsEngine()
    assert (
        engine.prepare_text("欢迎致电一二三三三。请按一。", "zh") == "欢迎致电幺二三三三。请按一。"
    )
    assert engine.prepare_text("余额为", "zh") == "余额为"  # Google reads words in context
    assert engine.prepare_text("one two three", "en") == "one two three"
