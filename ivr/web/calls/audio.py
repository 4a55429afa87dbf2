"""Recordings as the browser gets them: a path checked to stay in its folder, in a format it plays.

Asterisk's ``wav`` (16-bit PCM, 8 kHz) plays in every browser and is served as it is. Anything
else (GSM ``WAV``, ``gsm``, ``ulaw``...) is converted once with ffmpeg, in a subprocess, to PCM
WAV cached where the settings say (``Settings.recording_playback_copy``: the retention policy
deletes it with the recording).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import struct
import uuid
from pathlib import Path

from ivr.web.plumbing.i18n import TextError, _l

__all__ = ["AudioError", "contained", "keep_copy", "playable"]

_PCM_FORMATS = (1, 3)  # WAVE_FORMAT_PCM, WAVE_FORMAT_IEEE_FLOAT
_FFMPEG_SECONDS = 60


class AudioError(TextError):
    """The file is missing or cannot be made playable (the message is safe to show)."""


def contained(base: Path, relative: str) -> Path | None:
    """``base/relative`` if it stays inside ``base`` (no ``..``, no absolute path), else None.

    Blocking (``resolve`` follows links): call it from a worker thread.
    """
    root = base.resolve()
    candidate = (root / relative).resolve()
    return candidate if candidate.is_relative_to(root) and candidate != root else None


def _browser_plays(path: Path) -> bool:
    """True for a RIFF/WAVE file whose ``fmt`` chunk says PCM or float."""
    with path.open("rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return False
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                return False
            name, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if name == b"fmt ":
                fmt = f.read(2)
                return len(fmt) == 2 and struct.unpack("<H", fmt)[0] in _PCM_FORMATS
            f.seek(size + (size & 1), os.SEEK_CUR)


def _inspect(base: Path, relative: str, cached: Path) -> tuple[Path, bool, bool]:
    """(the file, the browser plays it as it is, a fresh conversion is cached)."""
    path = contained(base, relative)
    if path is None or not path.is_file():
        raise AudioError(_l("The recording file is missing."))
    if path.suffix.lower() == ".wav" and _browser_plays(path):
        return path, True, False
    fresh = cached.exists() and cached.stat().st_mtime >= path.stat().st_mtime
    return path, False, fresh


async def playable(data_dir: Path, relative: str, cached: Path) -> Path:
    """A file the browser plays for the recording at ``data_dir/relative`` (converted, if need
    be, to ``cached``)."""
    source, as_is, fresh = await asyncio.to_thread(_inspect, data_dir, relative, cached)
    if as_is:
        return source
    if not fresh:
        await _convert(source, cached)
    return cached


async def keep_copy(audio: bytes, cached: Path) -> Path:
    """``audio`` (a recording's WAV kept in the database) written to ``cached``, to be served and
    deleted with the recording like any playable copy."""

    def write() -> None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f".{cached.name}.{uuid.uuid4().hex}")
        partial.write_bytes(audio)
        partial.replace(cached)  # whole or not at all: two plays at once see one file

    await asyncio.to_thread(write)
    return cached


async def _convert(source: Path, target: Path) -> None:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise AudioError(_l("This recording needs ffmpeg to be played in a browser."))
    await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
    partial = target.with_name(f".{target.stem}-{uuid.uuid4().hex}.wav")
    process = await asyncio.create_subprocess_exec(
        ffmpeg,
        "-nostdin",
        "-v",
        "error",
        "-y",
        "-i",
        str(source),
        "-ac",
        "1",
        "-c:a",
        "pcm_s16le",
        str(partial),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, errors = await asyncio.wait_for(process.communicate(), _FFMPEG_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AudioError(_l("Converting the recording took too long.")) from None
    if process.returncode != 0:
        await asyncio.to_thread(partial.unlink, missing_ok=True)
        raise AudioError(
            _l("ffmpeg could not convert the recording: %(why)s", why=errors.decode()[-200:])
        )
    await asyncio.to_thread(os.replace, partial, target)  # atomic: readers never see half a file
