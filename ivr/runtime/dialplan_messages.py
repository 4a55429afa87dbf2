"""Voice messages the dialplan records, brought into the call records.

When no agent can take a call (outside hours, nobody logged in, the wait ran out) or the flow did
not finish, the dialplan records a message itself (``voicemail`` in ``extensions.conf.j2``) as
``<recordings>/message-<hotline>-<the channel's uniqueid>.wav``. The flow has ended by
then, so nothing in the call writes it down. This job looks at the folder every ``interval``
seconds and attaches each finished file (unchanged for ``SETTLE_S``) to the call with that
uniqueid, as the flow's own messages are: a recording and a call-back task on the caller ID, so
supervisors hear it and call back. A file too short to hold a word is deleted.

A file whose call has no record is a call no process of the hotline took: none ran (the message
is found by the first sweep when one starts again), or its FastAGI server did not answer. The
flow opens its record as the call starts, long before its message ends, so once the file has been
left ``ORPHAN_AFTER_S`` the message gets a call of its own (outcome ``voice_message``, the
hotline from the file name, the caller unknown: nothing on disk tells it, in the language the
dialplan speaks before any flow, at the file's time), so that supervisors find it in the call log
and the call-back queue all the same.

Nodes sharing the database may sweep the same file at once (a shared recordings folder), and one
node's sweeps may overlap another process's: the records store each message once whichever comes
first (``ivr.store.dialplan_messages``), the other is told it is stored already.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from ivr.domain.hotlines import HOTLINES
from ivr.domain.recordings import MIN_RECORDING_SECONDS
from ivr.speech.catalog import DEFAULT_LANGUAGE

log = logging.getLogger(__name__)

__all__ = ["DialplanMessages", "MessageStore"]

# Asterisk has closed the file when it has not changed for this long (Record writes every 20 ms).
SETTLE_S = 10.0
# A message with no call record after this long has none to wait for (a write held up in a busy
# database takes seconds, not minutes).
ORPHAN_AFTER_S = 120.0
_NAME = re.compile(r"message-(?P<hotline>\d+)-(?P<uniqueid>.+)\.wav")


class MessageStore(Protocol):
    """What the job needs of the records (``ivr.store.records.Records`` fits)."""

    async def voice_message_paths(self, paths: Sequence[str]) -> set[str]: ...

    async def attach_dialplan_message(
        self, uniqueid: str, path: str, duration_s: float, *, audio: bytes | None = None
    ) -> tuple[int, bool] | None: ...

    async def record_unattended_message(
        self,
        *,
        hotline: str,
        uniqueid: str,
        language: str,
        left_at: datetime,
        path: str,
        duration_s: float,
        audio: bytes | None = None,
    ) -> tuple[int, bool]: ...


@dataclass(frozen=True)
class _Found:
    path: Path
    stored_as: str  # the recording's path as the records keep it: under the data folder
    hotline: str
    uniqueid: str
    age_s: float
    left_at: datetime  # the file's last change: when the caller stopped speaking


def uniqueid_of(name: str) -> str | None:
    """The channel's uniqueid from the dialplan's file name."""
    match = _NAME.fullmatch(name)
    return None if match is None else match["uniqueid"]


class DialplanMessages:
    """``start`` begins the sweeps; ``close`` stops them. ``archive``: keep each message's sound
    in the database too, for nodes sharing it (as the flow's recordings)."""

    def __init__(
        self,
        store: MessageStore,
        recordings_dir: Path,
        data_dir: Path,
        *,
        archive: bool,
        interval: float = 30.0,
    ) -> None:
        self._store = store
        self._dir = recordings_dir
        self._data_dir = data_dir
        self._archive = archive
        self._interval = interval
        self._done: set[str] = set()  # attached, deleted or given up on by this process
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("the message sweep has started already")
        self._task = asyncio.create_task(self._sweeps(), name="dialplan-messages")

    async def close(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _sweeps(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:  # the database may be down: the files wait for the next sweep
                log.exception("dialplan messages: sweep failed")
            await asyncio.sleep(self._interval)

    async def sweep(self) -> int:
        """Attach the finished messages found now; how many were attached."""
        finished = await asyncio.to_thread(self._finished)
        if not finished:
            return 0
        # Attached before this process started: known without reading their sound again.
        known = await self._store.voice_message_paths([f.stored_as for f in finished])
        attached = 0
        for found in finished:
            if found.stored_as in known:
                self._done.add(found.path.name)
            elif await self._take(found):
                attached += 1
        return attached

    def _finished(self) -> list[_Found]:
        now = time.time()
        found = []
        for path in sorted(self._dir.glob("message-*.wav")):
            match = _NAME.fullmatch(path.name)
            if match is None or path.name in self._done:
                continue
            try:
                mtime = path.stat().st_mtime
            except FileNotFoundError:  # deleted meanwhile (the retention prune)
                continue
            if now - mtime >= SETTLE_S:
                found.append(
                    _Found(
                        path,
                        self._relative(path),
                        match["hotline"],
                        match["uniqueid"],
                        now - mtime,
                        datetime.fromtimestamp(mtime, UTC),
                    )
                )
        return found

    async def _take(self, found: _Found) -> bool:
        name = found.path.name
        try:
            seconds = await asyncio.to_thread(_duration_s, found.path)
        except (OSError, EOFError, wave.Error) as exc:
            log.warning("dialplan message %s unreadable, left as it is: %s", name, exc)
            self._done.add(name)
            return False
        if seconds < MIN_RECORDING_SECONDS:  # nothing said: nothing to keep
            await asyncio.to_thread(found.path.unlink, missing_ok=True)
            self._done.add(name)
            return False
        audio = await asyncio.to_thread(found.path.read_bytes) if self._archive else None
        attached = await self._store.attach_dialplan_message(
            found.uniqueid, found.stored_as, seconds, audio=audio
        )
        if attached is not None:
            self._done.add(name)
            recording_id, new = attached
            if new:
                log.info("dialplan message %s attached as recording %d", name, recording_id)
            return new
        if found.age_s < ORPHAN_AFTER_S:
            return False  # its record may still be on its way: the next sweep looks again
        if found.hotline not in HOTLINES:
            self._done.add(name)
            log.warning("dialplan message %s: %s is no hotline; left on disk", name, found.hotline)
            return False
        recording_id, new = await self._store.record_unattended_message(
            hotline=found.hotline,
            uniqueid=found.uniqueid,
            language=DEFAULT_LANGUAGE,  # the dialplan's prompts: no flow let the caller choose
            left_at=found.left_at,
            path=found.stored_as,
            duration_s=seconds,
            audio=audio,
        )
        self._done.add(name)
        if new:
            log.warning(
                "dialplan message %s: its call has no record (no hotline process took it); "
                "recorded as a call of its own, recording %d",
                name,
                recording_id,
            )
        return new

    def _relative(self, path: Path) -> str:
        """Blocking (``resolve`` reads the file system): run in the folder-listing thread."""
        try:
            return str(path.resolve().relative_to(self._data_dir.resolve()))
        except ValueError:
            return str(path)


def _duration_s(path: Path) -> float:
    with wave.open(str(path), "rb") as sound:
        return sound.getnframes() / sound.getframerate()
