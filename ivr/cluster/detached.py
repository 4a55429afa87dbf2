"""Processes a cluster starts and leaves running on their own (a session each, a log file), and
their stop from another process by pid: a SIGTERM, then a SIGKILL to the whole group."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from ivr.runtime.processes import process_runs

__all__ = ["spawn", "stop"]


def _spawn(argv: Sequence[str], env: Mapping[str, str] | None, log: Path, cwd: Path | None) -> int:
    with log.open("ab") as out:
        process = subprocess.Popen(
            list(argv),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,  # its own group: a Ctrl-C here does not reach it
        )
    return process.pid


async def spawn(
    argv: Sequence[str], *, log: Path, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> int:
    """Start ``argv`` detached, its output appended to ``log``; its pid."""
    return await asyncio.to_thread(_spawn, argv, env, log, cwd)


async def stop(pid: int, *, grace: float = 15.0) -> bool:
    """Stop the process group of ``pid``: SIGTERM, ``grace`` seconds, SIGKILL; True if it ran."""
    if not process_runs(pid):
        return False
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + wait
        while process_runs(pid) and time.monotonic() < deadline:  # noqa: ASYNC110 - another's
            await asyncio.sleep(0.1)
        if not process_runs(pid):
            return True
    return not process_runs(pid)
