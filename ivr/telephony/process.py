"""The Asterisk process seen from outside: its pid file, ``asterisk -rx`` into its namespace, and
stopping it, whether it is our child or was started by another process (``hotline down``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ivr.telephony.errors import TelephonyError, ToolMissingError
from ivr.telephony.layout import CONFIG_FILE
from ivr.telephony.rootfs import SETUP_HINT

STOP_TIMEOUT = 15.0

__all__ = ["PidRecord", "run", "rx", "stop"]


@dataclass(frozen=True)
class PidRecord:
    """The pid file: the pid, and the root it runs in (to tell our Asterisk from a reused pid)."""

    pid: int
    rootfs: Path

    @classmethod
    def read(cls, path: Path) -> PidRecord | None:
        try:
            data = json.loads(path.read_text())
            return cls(pid=int(data["pid"]), rootfs=Path(data["rootfs"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"pid": self.pid, "rootfs": str(self.rootfs)}) + "\n")

    def alive(self) -> bool:
        """True while the pid is still our Asterisk (not a recycled pid, not a zombie)."""
        proc = Path(f"/proc/{self.pid}")
        try:
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            root = os.readlink(proc / "root")
        except (OSError, IndexError):
            return False
        return state not in {"Z", "X"} and Path(root) == self.rootfs


async def run(command: Sequence[str], within: float) -> tuple[int, str]:
    try:
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
    except FileNotFoundError as exc:
        raise ToolMissingError(f"{command[0]} not found: {SETUP_HINT}") from exc
    try:
        output, _ = await asyncio.wait_for(process.communicate(), within)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise TelephonyError(f"{' '.join(command[-2:])} timed out after {within:.0f} s") from None
    return process.returncode or 0, output.decode(errors="replace")


async def rx(pid: int, rootfs: Path, command: str, within: float) -> str:
    # nsenter: the control socket and configuration are only visible in Asterisk's namespace.
    argv = [
        "nsenter",
        f"--target={pid}",
        "--mount",
        "--",
        "chroot",
        str(rootfs),
        "asterisk",
        "-C",
        str(CONFIG_FILE),
        "-rx",
        command,
    ]
    code, output = await run(argv, within)
    if code != 0 or output.startswith("Unable to connect to remote asterisk"):
        raise TelephonyError(f"asterisk -rx {command!r} failed ({code}): {output.strip()}")
    return output


async def stop(record: PidRecord, process: asyncio.subprocess.Process | None = None) -> None:
    def alive() -> bool:
        # Our own child is alive until reaped, even before it has entered the root.
        return process.returncode is None if process is not None else record.alive()

    if alive():
        with contextlib.suppress(TelephonyError):
            await rx(record.pid, record.rootfs, "core stop now", 5)
    for sig in (None, signal.SIGTERM, signal.SIGKILL):
        if sig is not None and alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(record.pid, sig)
        if await _exited(record, process, STOP_TIMEOUT if sig is None else 5):
            return
    raise TelephonyError(f"Asterisk (pid {record.pid}) did not stop")


async def _exited(
    record: PidRecord, process: asyncio.subprocess.Process | None, within: float
) -> bool:
    if process is not None:  # our child: reap it, so it does not linger as a zombie
        try:
            await asyncio.wait_for(process.wait(), within)
            return True
        except TimeoutError:
            return False
    deadline = time.monotonic() + within
    while record.alive():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.1)
    return True
