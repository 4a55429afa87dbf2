"""Several built prompts joined into one sound file, so one ``STREAM FILE`` plays them all.

Why a file: AGI has no command that plays a list. In Asterisk 22's ``res_agi.c``, ``STREAM
FILE <name> <digits> [offset]`` opens one stream (``ast_openstream`` of ``argv[2]``), and so do
``CONTROL STREAM FILE`` (``ast_control_streamfile`` of one name) and ``GET DATA``
(``ast_app_getdata_full`` streams one prompt; only the plain ``ast_app_getdata`` splits a list on
``&``, and AGI does not use it). A read-back such as ``pension_balance_is d3 n_shi ... u_fen
keys_hint`` cost one AGI round trip per fragment; joined, it costs one.

The built prompts are ``<prompts_dir>/<lang>/hotline/<key>.{wav,sln16,ulaw}``; Asterisk sees that
folder as ``sounds/<lang>/hotline`` (the chroot's bind of ``PROMPTS_DIR`` and its links; in
containers, node N's ``sounds-N`` volume), so a joined sound goes beside them, in
``<lang>/hotline/joined/<digest>.<ext>``, and is played as ``hotline/joined/<digest>`` from the
channel language like any prompt. Raw formats have no header: the joined file of ``sln16`` or
``ulaw`` is the fragments' bytes end to end. Only the raw formats every fragment has are written
(``wav`` has a header, and Asterisk picks among the formats present); none: no joined file.

Only the format the call will play is written, when the call says what it is: the dialplan hands
the channel's native audio formats to the flow (``?audio=${CHANNEL(audionativeformat)}`` on the
AGI URL, e.g. ``(ulaw)``). Asterisk plays the present format that costs least to translate to the
channel's, so a narrowband call (ulaw, alaw, slin: SIP with G.711, Local channels) gets ulaw and a
wideband one (G.722, Opus, slin16...) sln16; one format is enough, the other would never be read.
Writing is most of what joining costs (about 6 ms of CPU for a balance read-back in both formats
on this project's 2-core machine, against 1.3 ms in ulaw alone: sln16 is four times the bytes),
and each call's read-back is a new file. A call that does not say gets every raw format.

The digest names the language, the keys in order, and each fragment file's size and modification
time: a rebuilt prompt (``hotline prompts build`` rewrites its files) gives another name, so a
joined file never serves stale audio. Each format is written to a temporary name and renamed (0600
as all the hotline writes: Asterisk runs as the hotline's user), and the name is handed out only
once every format is in place. Asterisk opens a sound afresh on each ``STREAM FILE`` (``fopen`` in
``main/file.c``, nothing of the contents cached) and takes its length when it opens it (a seek to
the end in ``handle_streamfile``): a file renamed into place before the command plays whole. A
file already there is reused by every later call.

What Asterisk answers, and what the port makes of it: ``endpos`` counts samples of the format it
chose, and a resume names the same sound, so it opens the same format. A sound it cannot open
gets ``200 result=-1 endpos=<offset>`` (the AGI goes on; only ``AGISTATUS`` ends as ``FAILURE``,
which the dialplan does not read): so a call that one node's Asterisk handed to the other node's
hotline (``HOTLINE_AGI_PEERS``), whose folder that Asterisk does not see, costs one failed
command and a ``NOOP``, then hears the fragments one by one.

Amounts make the sequences countless, so the folder is bounded: the joined files, those found
at start-up included, form one least-recently-used list of at most ``max_files``; the oldest are
deleted past it. A file deleted under a call (by the bound, or by another process sharing the
folder) makes ``STREAM FILE`` fail; the port then plays fragment by fragment, as it does when a
fragment is missing or the folder is not writable (``None`` here, said once in the log).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import tempfile
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ivr.prompts.audio import FORMATS
from ivr.prompts.build import PROMPT_FOLDER

__all__ = ["JOINED_FOLDER", "RAW_FORMATS", "WIDEBAND", "JoinedPrompts", "formats_for"]

log = logging.getLogger(__name__)

JOINED_FOLDER = "joined"  # under each language's prompt folder: played as "joined/<digest>"
RAW_FORMATS = tuple(ext for ext in FORMATS if ext != "wav")  # headerless: bytes concatenate
# Asterisk's audio formats (as CHANNEL(audionativeformat) names them) sampled above 8 kHz: a call
# in one of them hears sln16 (16 kHz) best, any other ulaw (one step from alaw and slin).
WIDEBAND = frozenset(
    {"g722", "g719", "opus", "siren7", "siren14", "speex16", "speex32"}
    | {f"silk{rate}" for rate in (12, 16, 24)}
    | {f"slin{rate}" for rate in (12, 16, 24, 32, 44, 48, 96, 192)}
)
# A balance read-back (~13 s) joined is ~0.5 MB in sln16 and ulaw: 500 take ~250 MB. At 4 calls/s
# (what a node holds) one stays a few minutes after its last use, far longer than it plays.
DEFAULT_MAX_FILES = 500


def formats_for(native: str) -> tuple[str, ...] | None:
    """The raw formats a joined sound needs for a channel whose native audio formats are
    ``native`` (Asterisk's ``CHANNEL(audionativeformat)``: ``(ulaw)``, ``(g722|ulaw)``), best
    first: the first one every fragment has is written. None when not known: write them all."""
    names = {name.strip() for name in native.strip().strip("()").split("|")} - {""}
    if not names:
        return None
    return ("sln16", "ulaw") if names & WIDEBAND else ("ulaw", "sln16")


@dataclass(frozen=True)
class _Joined:
    """One joined sound: its name under the prompt folder and the files that make it."""

    name: str
    files: tuple[Path, ...]


class JoinedPrompts:
    """The joined sounds of one prompt folder, bounded; one per process (``ivr.stack``)."""

    def __init__(self, prompts_dir: Path, *, max_files: int = DEFAULT_MAX_FILES) -> None:
        if max_files < 1:
            raise ValueError("max_files must be at least 1")
        self.prompts_dir = prompts_dir
        self.max_files = max_files
        self._recent: OrderedDict[Path, tuple[Path, ...]] = OrderedDict()  # stem -> its files
        self._keys: dict[str, tuple[str, ...]] = {}  # name -> the prompts joined, while kept
        self._scanned: set[str] = set()  # languages whose folder was read into the list
        self._said: set[str] = set()  # reasons to play fragment by fragment, logged once each

    async def sound(self, language: str, keys: Sequence[str], audio: str = "") -> str | None:
        """The joined sound of ``keys`` in ``language`` (``joined/<digest>``, to be played under
        the prompt folder), written if needed for a channel of native ``audio`` formats (see
        ``formats_for``; empty: not known); None when it cannot be made: play the fragments."""
        try:
            if language not in self._scanned:  # what an earlier run left counts against the bound
                for stem, files in await asyncio.to_thread(_existing, self._folder(language)):
                    self._recent[stem] = files
                self._scanned.add(language)
            joined = await asyncio.to_thread(self._make, language, tuple(keys), formats_for(audio))
        except OSError as exc:  # the folder is not writable, the disk is full...
            joined = f"cannot write joined prompts in {self._folder(language)}: {exc}"
        if isinstance(joined, str):
            self._say_once(joined)
            return None
        stem = self._folder(language) / joined.name.rpartition("/")[2]
        self._recent[stem] = joined.files
        self._keys[joined.name] = tuple(keys)
        self._recent.move_to_end(stem)
        await self._evict()
        return joined.name

    def keys_of(self, name: str) -> tuple[str, ...] | None:
        """The prompts a joined sound handed out by this process plays, in order (what the
        caller heard); None for another name, or one dropped from the bound."""
        return self._keys.get(name)

    def unplayable(self, language: str) -> None:
        """Asterisk could not open a joined sound handed out by ``sound``: it sees another prompt
        folder (a call taken over from another node's Asterisk), or the file was removed since."""
        self._say_once(f"Asterisk could not open a joined sound of {self._folder(language)}")

    def _folder(self, language: str) -> Path:
        return self.prompts_dir / language / PROMPT_FOLDER / JOINED_FOLDER

    def _make(
        self, language: str, keys: tuple[str, ...], wanted: tuple[str, ...] | None
    ) -> _Joined | str:
        """Blocking (files): the joined sound, written once; why not, if a fragment is missing.
        ``wanted``: the first of these formats every fragment has; None: every raw format."""
        fragments = self.prompts_dir / language / PROMPT_FOLDER
        digest = hashlib.sha256(language.encode())
        formats: list[str] = []
        for ext in RAW_FORMATS if wanted is None else wanted:
            if wanted is not None and formats:
                break
            try:
                stats = [os.stat(fragments / f"{key}.{ext}") for key in keys]
            except FileNotFoundError:
                continue
            formats.append(ext)
            digest.update(f"\0{ext}".encode())
            for key, stat in zip(keys, stats, strict=True):
                digest.update(f"\0{key}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
        if not formats:
            return f"no {' or '.join(RAW_FORMATS)} sound of every prompt in {fragments}"
        folder = fragments / JOINED_FOLDER
        name = digest.hexdigest()[:32]
        files = tuple(folder / f"{name}.{ext}" for ext in formats)
        for ext, target in zip(formats, files, strict=True):
            if not target.exists():
                folder.mkdir(parents=True, exist_ok=True)
                _write_joined([fragments / f"{key}.{ext}" for key in keys], target)
        return _Joined(f"{JOINED_FOLDER}/{name}", files)

    async def _evict(self) -> None:
        gone: list[Path] = []
        while len(self._recent) > self.max_files:
            stem, files = self._recent.popitem(last=False)
            self._keys.pop(f"{JOINED_FOLDER}/{stem.name}", None)
            gone.extend(files)
        if gone:
            await asyncio.to_thread(_remove, gone)

    def _say_once(self, reason: str) -> None:
        if reason not in self._said:
            self._said.add(reason)
            log.warning("%s: playing prompts one by one", reason)


def _write_joined(fragments: list[Path], target: Path) -> None:
    """The fragments' bytes end to end, under a temporary name renamed into place."""
    fd, partial = tempfile.mkstemp(prefix=".joining-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for fragment in fragments:
                out.write(fragment.read_bytes())
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def _existing(folder: Path) -> list[tuple[Path, tuple[Path, ...]]]:
    """Blocking: the joined sounds already in ``folder``, least recently written first;
    temporary files a crash left behind are removed."""
    try:
        entries = list(folder.iterdir())
    except FileNotFoundError:
        return []
    by_stem: dict[Path, list[Path]] = {}
    for path in entries:
        if path.name.startswith(".joining-"):
            path.unlink(missing_ok=True)
        else:
            by_stem.setdefault(path.with_suffix(""), []).append(path)

    def written(stem: Path) -> float:
        return max((p.stat().st_mtime for p in by_stem[stem] if p.exists()), default=0.0)

    return [(stem, tuple(by_stem[stem])) for stem in sorted(by_stem, key=written)]


def _remove(files: list[Path]) -> None:
    for path in files:
        path.unlink(missing_ok=True)
